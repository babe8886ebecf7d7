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

/** How the sink reads an answer's body: a 2xx's not at all (drained behind), an error's first bytes for its reason. */
final class AnswerBodies {

    private AnswerBodies() {
    }

    /** How long an error answer's body is read for its reason once its status line came (at most the timeout). */
    static final Duration ERROR_BODY_WAIT = Duration.ofSeconds(1);

    /** How the sink reads an answer of {@code status}, whose whole answer is waited for {@code timeout} at most. */
    static HttpResponse.BodySubscriber<byte[]> of(int status, Duration timeout) {
        return status / 100 == 2 ? acceptedAtStatusLine(timeout)
                : headWithin(Attempt.REASON_BODY_CHARS * 4, timeout.compareTo(ERROR_BODY_WAIT) < 0 ? timeout : ERROR_BODY_WAIT);
    }

    /**
     * A 2xx's body: the answer is complete at once (the endpoint took the event), the body is read and
     * dropped behind it — for at most {@code within}, then the connection is given up (a body that never
     * ends would hold one connection per event). Waited for, a body that trickled past the timeout or
     * was cut short made the event look failed, and it was sent again, and again, then dead-lettered.
     */
    static HttpResponse.BodySubscriber<byte[]> acceptedAtStatusLine(Duration within) {
        return new HttpResponse.BodySubscriber<>() {
            /*
             * Dropped when the body ends: the task below waits out the whole timeout, and through a subscription it held
             * the exchange, its request and the event's payload all that while — every event's, for the timeout.
             */
            private final AtomicReference<Flow.Subscription> open = new AtomicReference<>();

            @Override
            public CompletionStage<byte[]> getBody() {
                return CompletableFuture.completedFuture(new byte[0]);
            }

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                open.set(subscription);
                subscription.request(Long.MAX_VALUE);
                CompletableFuture.delayedExecutor(within.toNanos(), TimeUnit.NANOSECONDS).execute(() -> {
                    var still = open.getAndSet(null);
                    if (still != null) {
                        still.cancel(); // the rest of the body is not waited for: the connection goes
                    }
                });
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
            }

            @Override
            public void onError(Throwable throwable) {
                open.set(null);
            }

            @Override
            public void onComplete() {
                open.set(null);
            }
        };
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
                CompletableFuture.delayedExecutor(within.toNanos(), TimeUnit.NANOSECONDS).execute(this::enough);
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
