package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Duration;
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
 * {@code timeout}: then it is answered 408 (once its headers are read) and its connection closed.
 * Writing the answer is bounded the same way ({@link Deadline#writing}).
 *
 * <p>The JDK server reads each request on a thread of {@link #executor()}, a new thread per
 * request: virtual threads on JDK 24 and later; platform threads before, where a virtual thread
 * blocked in the server's {@code synchronized} reads would pin its carrier, and a few slow clients
 * would stall every request. The deadline interrupts that thread: its socket channel is
 * interruptible, so a blocked read ends and the connection is closed.
 */
final class ReadDeadlines implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ReadDeadlines.class);

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

    ReadDeadlines(String name, Duration timeout, Late late) {
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
    }

    /** The executor for the JDK server: each request on a new thread, under a deadline. */
    Executor executor() {
        return exchange -> tasks.execute(() -> run(exchange));
    }

    private void run(Runnable exchange) {
        var deadline = new Deadline(Thread.currentThread());
        deadline.arm();
        current.set(deadline);
        try {
            exchange.run();
        } finally {
            current.remove();
            deadline.end();
        }
    }

    /** The deadline of the request this thread reads (one that never passes outside the server's threads). */
    Deadline current() {
        var deadline = current.get();
        return deadline != null ? deadline : new Deadline(Thread.currentThread());
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
        private ScheduledFuture<?> expiry;      // guarded by this

        Deadline(Thread reader) {
            this.reader = reader;
        }

        private synchronized void arm() {
            try {
                expiry = timer.schedule(this::expire, timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopping) {
                // the source is closing, and the server with it
            }
        }

        /** The handler has the exchange, so a late body can be answered 408; false if it is late already. */
        synchronized boolean attach(HttpExchange ex) {
            exchange = ex;
            return state != LATE;
        }

        /**
         * The handler answers before the body is read (a refusal); false if the request is late and
         * answered 408 instead. The deadline goes on bounding what the server reads of the body after.
         */
        synchronized boolean answering() {
            if (state == READING) {
                state = ANSWERING;
            }
            return state != LATE;
        }

        /** The request is read; false if it was late (then it is answered 408 and closed). */
        synchronized boolean done() {
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
            synchronized (this) {
                if (state == DONE || state == LATE) {
                    return;
                }
                boolean refused = state == ANSWERING;
                state = LATE;
                ex = refused ? null : exchange;
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
