package dev.ferry.adapters.http;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * How the sink reads an answer's body: a 2xx's not at all (drained behind, holding the publish's permit till it
 * ends), an error's first bytes for its reason.
 */
final class AnswerBodies {

    private AnswerBodies() {
    }

    /** How long an error answer's body is read for its reason once its status line came (at most the timeout). */
    static final Duration ERROR_BODY_WAIT = Duration.ofSeconds(1);

    /**
     * How the sink reads an answer of {@code status}, whose whole answer is waited for {@code timeout} at most; a 2xx's
     * body tells {@code body} when it ends, to give the publish's permit back if it was passed it.
     */
    static HttpResponse.BodySubscriber<byte[]> of(int status, Duration timeout, SinkPermit.Body body) {
        return status / 100 == 2 ? acceptedAtStatusLine(timeout, body)
                : headWithin(Attempt.REASON_BODY_CHARS * 4, timeout.compareTo(ERROR_BODY_WAIT) < 0 ? timeout : ERROR_BODY_WAIT);
    }

    /**
     * A 2xx's body: the answer is complete at once (the endpoint took the event), the body is read and
     * dropped behind it — for at most {@code within}, then the connection is given up (a body that never
     * ends would hold one connection per event). Waited for, a body that trickled past the timeout or
     * was cut short made the event look failed, and it was sent again, and again, then dead-lettered.
     * Its end, failure or giving up is told to {@code body}: its connection is busy until then.
     */
    static HttpResponse.BodySubscriber<byte[]> acceptedAtStatusLine(Duration within, SinkPermit.Body body) {
        var drain = new Drain(body);
        // timed from here, not from onSubscribe: a body the client never subscribes (closed under it) still ends, and
        // the permit it may be passed comes back
        onTheTimer(within).execute(drain::giveUp);
        body.draining(); // last: had the above thrown, the answer fails, and its publish gives the permit back itself
        return drain;
    }

    /**
     * Runs a task {@code after} from now on the JDK's delay thread itself — for tasks that neither block nor take long.
     * Handed on to the default async executor (what {@code delayedExecutor} does by default), a task needed a thread
     * of its own where that executor is thread-per-task (a common pool of parallelism below 2: a 2-CPU container), and
     * one that could not be started (OutOfMemoryError at a pids limit) was dropped without a word: the body never given
     * up, its permit held for good — and with max-concurrent such bodies, every later publish was told to hold back
     * until a restart.
     */
    private static java.util.concurrent.Executor onTheTimer(Duration after) {
        return CompletableFuture.delayedExecutor(after.toNanos(), TimeUnit.NANOSECONDS, Runnable::run);
    }

    /** A 2xx's body, read and dropped until it ends or {@link #giveUp} (see {@link #acceptedAtStatusLine}). */
    private static final class Drain implements HttpResponse.BodySubscriber<byte[]> {
        /*
         * Dropped when the body ends: the task giving it up waits out the whole timeout, and through a subscription it
         * held the exchange, its request and the event's payload all that while — every event's, for the timeout.
         */
        private final AtomicReference<Flow.Subscription> open = new AtomicReference<>();
        private final SinkPermit.Body body;
        private volatile boolean givenUp;

        Drain(SinkPermit.Body body) {
            this.body = body;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return CompletableFuture.completedFuture(new byte[0]);
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            open.set(subscription);
            if (givenUp) { // subscribed after the timeout: read, it would hold the connection with no permit for it
                giveUp();
                return;
            }
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
        }

        @Override
        public void onError(Throwable throwable) {
            open.set(null);
            body.ended();
        }

        @Override
        public void onComplete() {
            open.set(null);
            body.ended();
        }

        /**
         * The timeout passed: the rest of the body is not waited for, the connection goes, then the permit; and a body
         * still open then is said ({@link SinkPermit.Body#givenUp}). On the JDK's delay thread: nothing here blocks.
         */
        void giveUp() {
            givenUp = true;
            Flow.Subscription still = null;
            try {
                still = open.getAndSet(null);
                if (still != null) {
                    still.cancel(); // before the permit: the next publish's connection does not join this one
                }
            } finally {
                body.ended(); // an Error in the cancel does not keep the permit for good
            }
            if (still != null) { // after the permit: a warning that failed keeps nothing
                body.givenUp();
            }
        }
    }

    /**
     * An error answer's first {@code max} bytes, for its reason, taken once they came, the body ended or
     * {@code within} passed — whichever is first; then the connection is given up (an error body can be of
     * any size, and never end). Waited for whole, a 429 whose body trickled, stalled or was cut short became
     * "no answer": its Retry-After lost, the endpoint asked again at once, the attempts spent.
     */
    static HttpResponse.BodySubscriber<byte[]> headWithin(int max, Duration within) {
        return new HttpResponse.BodySubscriber<>() {
            private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
            private final CompletableFuture<byte[]> body = new CompletableFuture<>();
            private volatile Flow.Subscription subscription;

            @Override
            public CompletionStage<byte[]> getBody() {
                return body;
            }

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                this.subscription = subscription;
                subscription.request(Long.MAX_VALUE);
                // on the delay thread too: handed on, the task could be dropped as a 2xx's give-up was, and a 429 whose
                // body stalled was "no answer" at the publish's timeout, its Retry-After lost
                onTheTimer(within).execute(this::enough);
            }

            @Override
            public void onNext(List<ByteBuffer> items) {
                boolean full;
                synchronized (kept) {
                    for (var buffer : items) {
                        int take = Math.min(buffer.remaining(), max - kept.size());
                        if (take > 0) {
                            var bytes = new byte[take];
                            buffer.get(bytes);
                            kept.write(bytes, 0, take);
                        }
                    }
                    full = kept.size() >= max;
                }
                if (full) {
                    enough();
                }
            }

            @Override
            public void onError(Throwable throwable) {
                finish(); // cut short: the status line is what decides, the reason keeps what came
            }

            @Override
            public void onComplete() {
                finish();
            }

            private void enough() {
                var still = subscription;
                if (finish() && still != null) {
                    still.cancel();
                }
            }

            private boolean finish() {
                synchronized (kept) {
                    subscription = null; // not held by the task waiting out the read time (see acceptedAtStatusLine)
                    return body.complete(kept.toByteArray());
                }
            }
        };
    }
}
