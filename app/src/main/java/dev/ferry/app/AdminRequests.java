package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads of the admin and metrics servers, and how long a client may take to send a request.
 *
 * <p>The JDK's server reads a request's line and headers on the executor's thread, inside a
 * {@code synchronized} read with no time limit. A virtual thread blocked there keeps its carrier on
 * JDK 21–23, and there are only as many carriers as cores: a client per core that sends one byte and
 * stops would stall every virtual thread of the process — health probes, deferred ledger completions,
 * DynamoDB claims — for good. So requests run on platform threads before JDK 24 (virtual from 24,
 * where a blocked read no longer pins), one per request, and a request that has not been read within
 * {@code timeout} — line, headers and any body, which no admin endpoint takes — has its thread
 * interrupted: its socket channel closes and the thread is free. Handlers themselves are never
 * interrupted (an interrupt closes the file channel under a whole MVStore ledger).
 */
final class AdminRequests implements AutoCloseable {

    /** How long a client has to send a whole request: ample for any a probe, a scraper or an operator sends. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A part of an answer may wait this many times a request's deadline for the client to take it. */
    static final int WRITE_FACTOR = 6;

    /** The most of a request's body read (and thrown away) before the answer; a larger one is refused. */
    static final int MAX_BODY = 64 * 1024;

    /**
     * The most requests served at once, each on a thread of its own; a connection past them is closed unanswered. A
     * flood of clients that each send a byte and stop held a platform thread apiece until its deadline — thousands in
     * ten seconds — and a process out of threads fails where it cannot afford to: a consumer, a ledger's writer.
     */
    static final int MAX_AT_ONCE = 128;

    private final long timeoutNanos;
    /**
     * How long one part of an answer may wait for the client: longer than a read's. The kernel wakes a writer blocked on
     * a full socket only once a good part of its buffer (megabytes) has drained, which a slow but steady reader takes
     * seconds to do; {@link #WRITE_FACTOR} times the read's deadline, a minute by default.
     */
    private final long writeTimeoutNanos;
    private final ExecutorService threads;
    private final int maxAtOnce;
    private final ScheduledThreadPoolExecutor timer;
    private final ThreadLocal<Reading> current = new ThreadLocal<>();

    AdminRequests(Duration timeout) {
        this(timeout, Runtime.version().feature());
    }

    AdminRequests(Duration timeout, int jdkFeature) {
        this(timeout, jdkFeature, MAX_AT_ONCE);
    }

    AdminRequests(Duration timeout, int jdkFeature, int maxAtOnce) {
        this.maxAtOnce = maxAtOnce;
        this.timeoutNanos = timeout.toNanos();
        this.writeTimeoutNanos = timeout.multipliedBy(WRITE_FACTOR).toNanos();
        var builder = virtualThreadsSafe(jdkFeature) ? Thread.ofVirtual() : Thread.ofPlatform().daemon(true);
        this.threads = Executors.newThreadPerTaskExecutor(builder.name("ferry-admin-", 0).factory());
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            var t = new Thread(r, "ferry-admin-deadlines");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
    }

    /** Whether a request's blocking reads may run on a virtual thread: JDK 24 on, where they no longer pin a carrier. */
    static boolean virtualThreadsSafe(int jdkFeature) {
        return jdkFeature >= 24;
    }

    /**
     * An executor for one JDK server: each request on a new thread, read under the deadline, up to {@link #MAX_AT_ONCE}
     * at once for this server, past them the oldest waiting on its client cut off ({@link AdminSlots}). What it refuses
     * (every slot's handler at work, or the server stopping) it throws: the JDK's server then closes the connection —
     * swallowed, the connection stayed open and in its books, never answered. Each server has slots of its own: shared,
     * stalled clients on a metrics address (often opened wider) took the admin address's health probes' slots.
     */
    Executor executor() {
        var slots = new AdminSlots(maxAtOnce);
        return exchange -> {
            var slot = slots.take();
            if (slot == null) {
                throw new RejectedExecutionException("more than " + maxAtOnce + " admin requests at once");
            }
            boolean started = false;
            try {
                threads.execute(() -> run(exchange, slot));
                started = true;
            } finally {
                if (!started) { // refused (stopping), or no thread to be had
                    slot.letGo();
                }
            }
        };
    }

    private void run(Runnable exchange, AdminSlots.Slot slot) {
        var reading = new Reading(Thread.currentThread());
        current.set(reading);
        reading.arm(timeoutNanos);
        slot.running(reading::cut);
        try {
            exchange.run();
        } finally {
            current.remove();
            reading.end();
            slot.letGo();
        }
    }

    /**
     * Thrown out of a handler when its request is answered no further: the JDK's server then closes the connection
     * and forgets it. Closed by the handler instead ({@code exchange.close()} with nothing or part of the answer
     * sent), the connection was left in the server's books until it stopped — memory for every such request.
     */
    static final class Abandoned extends IOException {
        Abandoned(String why) {
            super(why, null);
        }
    }

    /**
     * Reads what is left of the request (its body, at most {@link #MAX_BODY}) while the deadline runs,
     * then stops it: the handler runs with no deadline but each write of its answer has one (a client that
     * does not read holds no thread). Throws {@link Abandoned} when the request is to be answered no further
     * — late, gone, or its body too large (answered 413 here).
     */
    void read(HttpExchange exchange) throws IOException {
        var reading = current.get();
        if (reading == null) {
            return; // not one of this executor's threads (a test's server): nothing to bound
        }
        if (contentLength(exchange) > MAX_BODY) {
            throw refuseTooLarge(exchange);
        }
        try (InputStream body = exchange.getRequestBody()) {
            if (body.readNBytes(MAX_BODY + 1).length > MAX_BODY) {
                throw refuseTooLarge(exchange);
            }
        } catch (Abandoned e) {
            throw e;
        } catch (IOException lateOrGone) { // the deadline's interrupt, or a client that went: nothing to answer
            throw new Abandoned("the request was not read whole: " + lateOrGone);
        }
        if (!reading.read()) {
            throw new Abandoned("the request was read too late"); // interrupted just after its body was read
        }
        exchange.setStreams(null, new TimedOutput(exchange.getResponseBody(), reading));
    }

    /**
     * Answers 413 (with a length, so closing does not first drain the body the client may never send) and
     * returns what to throw, which closes the connection.
     */
    private static Abandoned refuseTooLarge(HttpExchange exchange) {
        byte[] bytes = ("{\"error\": \"no admin endpoint takes a body over " + MAX_BODY + " bytes\"}\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.getResponseHeaders().set("Connection", "close");
            exchange.sendResponseHeaders(413, bytes.length);
            var out = exchange.getResponseBody();
            out.write(bytes);
            out.flush();
        } catch (IOException | RuntimeException lateOrGone) {
            // the client went, or the deadline cut the write short: nothing more to say to it
        }
        return new Abandoned("a body over " + MAX_BODY + " bytes");
    }

    /** A write to the client. */
    @FunctionalInterface
    interface Write {
        void run() throws IOException;
    }

    /**
     * Runs {@code write} (headers a handler sends with no body: they go to the socket at once) within the deadline,
     * on a request of this executor's; else as it is.
     */
    void timed(Write write) throws IOException {
        var reading = current.get();
        if (reading == null) {
            write.run();
        } else {
            reading.timed(write);
        }
    }

    /**
     * Thrown by {@link Observability}'s handlers after a handler returned, when a write of its answer failed or came
     * too late: the JDK's server swallows what the answer's close throws (an answer under its buffer's size is written
     * then) and, the handler returning, kept the connection in its books.
     */
    void answered() throws Abandoned {
        var reading = current.get();
        if (reading != null && reading.failed) {
            throw new Abandoned("the answer could not be written whole");
        }
    }

    /** The most written under one deadline: it bounds a client that takes nothing, not one that reads slowly. */
    private static final int SLICE = 16 * 1024;

    /** The answer's stream, each write within the deadline: only then may the thread be interrupted. */
    private static final class TimedOutput extends java.io.FilterOutputStream {
        private final Reading reading;

        TimedOutput(java.io.OutputStream out, Reading reading) {
            super(out);
            this.reading = reading;
        }

        @Override
        public void write(int b) throws IOException {
            reading.timed(() -> out.write(b));
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            for (int at = off, end = off + len; at < end; at += SLICE) {
                int from = at;
                reading.timed(() -> out.write(b, from, Math.min(SLICE, end - from)));
            }
        }

        @Override
        public void flush() throws IOException {
            reading.timed(out::flush);
        }

        @Override
        public void close() throws IOException {
            reading.timed(out::close);
        }
    }

    /** The Content-Length the request declares; -1 when it declares none (chunked, or no body). */
    private static long contentLength(HttpExchange exchange) {
        var value = exchange.getRequestHeaders().getFirst("Content-Length");
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE; // the JDK refuses it before a handler sees it; refused here too if not
        }
    }

    /** Stops the timer and the request threads' executor (after the server has stopped). */
    @Override
    public void close() {
        timer.shutdownNow();
        threads.shutdown();
    }

    /**
     * One request: being read, then read in time (its handler runs, never interrupted), writing a part of its answer
     * (each within the deadline), or late — interrupted, its connection closing.
     */
    private final class Reading {
        private static final int READING = 0;
        private static final int READ = 1;
        private static final int LATE = 2;
        private static final int WRITING = 3;

        private final Thread reader;
        private final AtomicInteger state = new AtomicInteger(READING);
        /** Counts the deadlines armed: an expiry already under way when its deadline was disarmed acts on none later. */
        private final AtomicInteger armed = new AtomicInteger();
        private volatile ScheduledFuture<?> expiry;
        /** A write of the answer failed or came late (the handler's thread only). */
        private boolean failed;

        Reading(Thread reader) {
            this.reader = reader;
        }

        void arm(long nanos) {
            int generation = armed.incrementAndGet();
            try {
                expiry = timer.schedule(() -> expire(generation), nanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException closing) {
                // the server is stopping
            }
        }

        /** The request is read: no interrupt comes after this returns true, but while a part of the answer is written. */
        boolean read() {
            boolean inTime = state.compareAndSet(READING, READ);
            disarm();
            return inTime || state.get() == READ;
        }

        /**
         * Runs a write within the deadline. Late, the interrupt may still be on its way: the handler is ended here (its
         * thread ends with the request) — it would have met it in its next call, a ledger's file perhaps.
         */
        void timed(Write write) throws IOException {
            if (state.get() == WRITING) { // within a timed write (a HEAD's headers close the exchange's stream): timed already
                write.run();
                return;
            }
            if (!state.compareAndSet(READ, WRITING)) {
                failed = true;
                throw new Abandoned("the answer was not taken in time");
            }
            arm(writeTimeoutNanos);
            boolean done = false;
            try {
                write.run();
                done = true;
            } finally {
                disarm();
                if (!state.compareAndSet(WRITING, READ) || !done) {
                    failed = true;
                }
            }
            if (failed) {
                throw new Abandoned("the answer was not taken in time");
            }
        }

        void end() {
            state.compareAndSet(READING, READ);
            disarm();
        }

        private void disarm() {
            armed.incrementAndGet();
            var e = expiry;
            if (e != null) {
                e.cancel(false);
            }
        }

        private void expire(int generation) {
            if (armed.get() == generation) {
                cut();
            }
        }

        /** Ends it now if it waits on its client (reading it, or writing to it); false when its handler is at work. */
        boolean cut() {
            if (state.compareAndSet(READING, LATE) || state.compareAndSet(WRITING, LATE)) {
                reader.interrupt(); // the blocked read or write ends, its channel closed with the connection
                return true;
            }
            return false;
        }
    }
}
