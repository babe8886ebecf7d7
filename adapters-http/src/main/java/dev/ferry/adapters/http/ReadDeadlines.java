package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the time the ingest endpoint spends reading one request, its headers and its body, so a
 * client that sends slowly or stops (slowloris) holds a thread and a socket for at most
 * {@code timeout}: then it is answered 408 (once its headers are read; counted with the source's
 * {@link HttpRefusals}) and its connection closed.
 * Writing the answer is bounded the same way ({@link Deadline#writing}).
 *
 * <p>The JDK server reads each request on a thread of {@link #executor()}, a new thread per
 * request: virtual threads on JDK 24 and later; platform threads before, where a virtual thread
 * blocked in the server's {@code synchronized} reads would pin its carrier, and a few slow clients
 * would stall every request. The deadline interrupts that thread: its socket channel is
 * interruptible, so a blocked read ends and the connection is closed.
 *
 * <p>At most {@link #MAX_READING_HEADERS} requests read their request line and headers at once: past them the oldest
 * of those is cut off (its connection closed), once it has read them for longer than {@link #HEADERS_GRACE} — a burst
 * of new TLS connections (clients back after an outage) reads its handshakes here too, a round trip each, and was cut
 * as a flood — or at once past four times as many. The JDK server reads the headers on that thread before the handler runs,
 * so before any credential is checked or any other bound counts the request, and holds up to 380 KiB of headers in a
 * buffer that doubles as it grows (a header left unfinished holds about 1.3 MB for the read timeout): 640 peers that
 * each send most of one hold 800 MiB, and take the process down with them. A client sends its headers whole and at
 * once: the flood's older connections go before it.
 */
final class ReadDeadlines implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReadDeadlines.class);
    /** Requests reading their headers at once, past which the oldest of them is cut off. */
    static final int MAX_READING_HEADERS = 128;
    /** How long a request may read its headers before it may be cut off for a newcomer (under four times the bound). */
    static final Duration HEADERS_GRACE = Duration.ofSeconds(1);

    /** Writes the 408 answer of an exchange whose body is late, without closing the exchange. */
    @FunctionalInterface
    interface Late {
        void answer(HttpExchange exchange) throws IOException;
    }

    private final long timeoutNanos;
    private final Late late;
    private final ThreadFactory threads;
    private final ExecutorService tasks;
    private final ScheduledThreadPoolExecutor timer;
    private final ThreadLocal<Deadline> current = new ThreadLocal<>();
    private final String name;
    private final int maxReadingHeaders;
    private final long graceNanos;
    private final Set<Deadline> readingHeaders = new LinkedHashSet<>(); // guarded by itself; oldest first
    /** Written on a request's thread of its own: the timer trims too, and must not wait for a blocked log. */
    private final RateLimitedWarning cutOff;
    private final RateLimitedWarning notSetUpWarning = new RateLimitedWarning(Duration.ofSeconds(10), Runnable::run);
    /** Whether a look at those reading their headers is due on the timer. */
    private final java.util.concurrent.atomic.AtomicBoolean trimQueued = new java.util.concurrent.atomic.AtomicBoolean();

    ReadDeadlines(String name, Duration timeout, Late late) {
        this(name, timeout, late, MAX_READING_HEADERS, HEADERS_GRACE);
    }

    /** With another bound on the requests reading their headers at once, and another grace (a test's). */
    ReadDeadlines(String name, Duration timeout, Late late, int maxReadingHeaders, Duration grace) {
        if (maxReadingHeaders < 1) {
            throw new IllegalArgumentException("maxReadingHeaders must be >= 1, was " + maxReadingHeaders);
        }
        this.name = name;
        this.maxReadingHeaders = maxReadingHeaders;
        this.graceNanos = grace.toNanos();
        this.timeoutNanos = timeout.toNanos();
        this.late = late;
        Thread.Builder builder;
        if (Runtime.version().feature() >= 24) {
            builder = Thread.ofVirtual();
        } else {
            builder = Thread.ofPlatform().daemon(true);
        }
        this.threads = builder.name("ferry-http-" + name + "-", 0).factory();
        this.tasks = Executors.newThreadPerTaskExecutor(threads);
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            var t = new Thread(r, "ferry-http-" + name + "-deadlines");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        // not one of tasks: the stop waits for those, and would wait for the log
        this.cutOff = new RateLimitedWarning(Duration.ofSeconds(10), r -> threads.newThread(r).start());
    }

    /** The executor for the JDK server: each request on a new thread, under a deadline. */
    Executor executor() {
        return exchange -> tasks.execute(() -> run(exchange));
    }

    private void run(Runnable exchange) {
        Deadline deadline = null;
        Throwable notSetUp = null;
        try {
            deadline = new Deadline(Thread.currentThread(), true);
            current.set(deadline); // before it is armed: one armed that the handler cannot see cut its request short
            deadline.arm();
            startsReadingHeaders(deadline);
        } catch (Throwable t) {
            // an OutOfMemoryError (the set's add, a list, the timer's task: likeliest in the header flood this bounds):
            // the exchange runs all the same. The JDK took its channel out of its selector and sets no maxReqTime by
            // default: skipped, nothing closed the connection, its socket held until a restart
            notSetUp = t;
        }
        try {
            exchange.run();
        } finally {
            current.remove();
            if (deadline != null) {
                deadline.headersRead(); // done already if the handler ran; else the server gave up on the request
                deadline.end();
            }
            if (notSetUp != null) { // one line at most every 10 s: a heap short enough for this fails many requests
                String why = notSetUp.toString();
                notSetUpWarning.count(1, total -> LOG.warn("HTTP source '{}': {} request(s)' read deadline or header "
                        + "bound not set up ({}); served all the same (said at most every 10 s)", name, total, why));
            }
        }
    }

    /**
     * A request starts reading its headers: past the bound, the oldest ones still reading them are cut off, those
     * past the grace, and past four times the bound any.
     */
    private void startsReadingHeaders(Deadline deadline) {
        synchronized (readingHeaders) {
            readingHeaders.add(deadline);
        }
        trimReadingHeaders();
    }

    /**
     * Cuts off those past the bound and the grace; while some past the bound are still within it, looks again once the
     * oldest of them is past it — looked at only as requests came, 512 unfinished ones sent within a second to a quiet
     * source held the heap for the whole read timeout.
     */
    private void trimReadingHeaders() {
        var cut = new java.util.ArrayList<Deadline>();
        long again = -1;
        synchronized (readingHeaders) {
            long now = System.nanoTime();
            for (var oldest = readingHeaders.iterator(); readingHeaders.size() > maxReadingHeaders && oldest.hasNext(); ) {
                var d = oldest.next();
                if (now - d.startedNanos <= graceNanos && readingHeaders.size() <= 4L * maxReadingHeaders) {
                    again = d.startedNanos + graceNanos - now + 1; // oldest first: the rest came later
                    break;
                }
                oldest.remove();
                cut.add(d);
            }
        }
        if (again >= 0 && trimQueued.compareAndSet(false, true)) {
            try {
                timer.schedule(() -> {
                    trimQueued.set(false);
                    trimReadingHeaders();
                }, again, TimeUnit.NANOSECONDS);
            } catch (Throwable notQueued) {
                // the source closing (and the server with it), or no heap for the task: the next request looks again.
                // Only a rejection was caught: an OutOfMemoryError left the look queued for good, none came on the
                // timer after it, and those this one cuts (taken out of the set above) were never cut
                trimQueued.set(false);
            }
        }
        int n = 0;
        for (var d : cut) {
            n += d.cutReadingHeaders() ? 1 : 0;
        }
        if (n > 0) { // the newcomer's request goes on, and the timer: the line is written on a thread of its own
            cutOff.count(n, total -> LOG.warn("HTTP source '{}': {} request(s) cut off while reading their headers: "
                    + "more than {} at once, the oldest closed (a flood of unfinished requests?) (said at most every "
                    + "10 s)", name, total, maxReadingHeaders));
        }
    }

    /**
     * The deadline of the request this thread reads (one that never passes outside the server's threads). The handler's
     * first call: the request's headers are read, and it is no longer cut off for a newcomer.
     */
    Deadline current() {
        var deadline = current.get();
        if (deadline == null) {
            return new Deadline(Thread.currentThread(), false);
        }
        deadline.headersRead();
        return deadline;
    }

    /** Stops the timer and waits for the request threads (after the server has stopped). */
    @Override
    public void close() {
        timer.shutdownNow();
        tasks.close();
    }

    /** One request's deadline: reading, then answered early, read in time, or late. */
    final class Deadline {
        private static final int READING = 0;
        private static final int ANSWERING = 1;
        private static final int DONE = 2;
        private static final int LATE = 3;

        private final Thread reader;
        private final CountDownLatch lateAnswered = new CountDownLatch(1);
        private int state = READING;            // guarded by this
        private HttpExchange exchange;          // guarded by this
        private HttpRefusals refusals;          // guarded by this: where its 408 is counted, given with the exchange
        private ScheduledFuture<?> expiry;      // guarded by this
        private boolean inHeaders;              // guarded by this: in readingHeaders, the handler not yet called
        private final long startedNanos = System.nanoTime();

        Deadline(Thread reader, boolean inHeaders) {
            this.reader = reader;
            this.inHeaders = inHeaders;
        }

        private synchronized void arm() {
            try {
                expiry = timer.schedule(this::expire, timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopping) {
                // the source is closing, and the server with it
            }
        }

        /**
         * The handler has the exchange, so a late body can be answered 408 and counted in {@code refusals}; false if it
         * is late already.
         */
        synchronized boolean attach(HttpExchange ex, HttpRefusals refusals) {
            headersRead();
            exchange = ex;
            this.refusals = refusals;
            return state != LATE;
        }

        /**
         * The handler answers before the body is read (a refusal); false if the request is late and
         * answered 408 instead. The deadline goes on bounding what the server reads of the body after.
         */
        synchronized boolean answering() {
            headersRead();
            if (state == READING) {
                state = ANSWERING;
            }
            return state != LATE;
        }

        /** The request is read; false if it was late (then it is answered 408 and closed). */
        synchronized boolean done() {
            headersRead();
            if (state == READING || state == ANSWERING) {
                state = DONE;
                disarm();
            }
            return state == DONE;
        }

        synchronized boolean late() {
            return state == LATE;
        }

        /**
         * A part of the answer is about to be written: each part within the timeout, so a client that
         * does not read (a large batch's answer fills the socket's buffers) has its connection closed
         * instead of holding the thread for as long as the connection stays open, while one that reads
         * slowly gets the whole answer. Ends with the request.
         */
        synchronized void writing() {
            if (state == LATE) {
                return;
            }
            disarm();
            try {
                expiry = timer.schedule(reader::interrupt, timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopping) {
                // the source is closing, and the server with it
            }
        }

        /** Waits (at most 2 s) until the 408 is written, so that closing the connection does not cut it off. */
        void awaitLateAnswer() {
            try {
                lateAnswered.await(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                // this deadline's own interrupt, sent once the answer is written
            }
        }

        /** The headers are read, or never will be: out of readingHeaders (never held while this lock is taken). */
        private void headersRead() {
            synchronized (this) {
                if (!inHeaders) {
                    return;
                }
                inHeaders = false;
            }
            synchronized (readingHeaders) {
                readingHeaders.remove(this);
            }
        }

        /** Cut off for a newcomer as the expiry would, its headers unfinished; false if they are read already. */
        private boolean cutReadingHeaders() {
            synchronized (this) {
                if (!inHeaders || state != READING) {
                    return false;
                }
                inHeaders = false;
                state = LATE;
                disarm();
            }
            lateAnswered.countDown();
            reader.interrupt(); // closes its interruptible channel: the blocked read ends, and the server drops it
            return true;
        }

        private synchronized void end() {
            if (state != LATE) {
                state = DONE;
                disarm();
            }
        }

        private void disarm() {
            if (expiry != null) {
                expiry.cancel(false);
            }
        }

        private void expire() {
            HttpExchange ex;
            HttpRefusals countedIn;
            synchronized (this) {
                if (state == DONE || state == LATE) {
                    return;
                }
                boolean refused = state == ANSWERING;
                state = LATE;
                ex = refused ? null : exchange;
                countedIn = refusals;
            }
            if (ex == null) {
                // still reading the headers, or the rest of a refused request's body: close
                lateAnswered.countDown();
                reader.interrupt();
                return;
            }
            // the answer is written on a thread of its own: a client that does not read could block it
            threads.newThread(() -> {
                try {
                    // counted here, where the 408 is written, and only here (LATE is set once): the reader's own
                    // way out (late, or its read failing) only logs it. Uncounted and logged at DEBUG, a producer whose
                    // bodies took longer than the timeout lost every request while the source stood ready and quiet.
                    // Before the answer, as every refusal is: a client that has read its 408 finds it counted
                    countedIn.count(408, "request not read within read-timeout of " + timeoutNanos / 1_000_000 + " ms");
                    late.answer(ex);
                } catch (IOException | RuntimeException e) {
                    LOG.debug("HTTP source: could not answer a late request 408: {}", e.toString());
                } finally {
                    lateAnswered.countDown();
                    reader.interrupt();
                }
            }).start();
            try {
                timer.schedule(reader::interrupt, 1, TimeUnit.SECONDS);
            } catch (RejectedExecutionException stopping) {
                reader.interrupt();
            }
        }
    }
}
