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
import java.util.concurrent.atomic.AtomicBoolean;

/** How the sink reads an answer's body: a 2xx's not at all (drained behind), an error's first bytes for its reason. */
final class AnswerBodies {

    private AnswerBodies() {
    }

    /**
     * A 2xx's body: the answer is complete at once (the endpoint took the event), the body is read and
     * dropped behind it — for at most {@code within}, then the connection is given up (a body that never
     * ends would hold one connection per event). Waited for, a body that trickled past the timeout or
     * was cut short made the event look failed, and it was sent again, and again, then dead-lettered.
     */
    static HttpResponse.BodySubscriber<byte[]> acceptedAtStatusLine(Duration within) {
        return new HttpResponse.BodySubscriber<>() {
            private final AtomicBoolean ended = new AtomicBoolean();

            @Override
            public CompletionStage<byte[]> getBody() {
                return CompletableFuture.completedFuture(new byte[0]);
            }

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
                CompletableFuture.delayedExecutor(within.toNanos(), TimeUnit.NANOSECONDS).execute(() -> {
                    if (ended.compareAndSet(false, true)) {
                        subscription.cancel(); // the rest of the body is not waited for: the connection goes
                    }
                });
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
            }

            @Override
            public void onError(Throwable throwable) {
                ended.set(true);
            }

            @Override
            public void onComplete() {
                ended.set(true);
            }
        };
    }

    /** The first {@code max} bytes of a body, the rest read and dropped: an error answer can be of any size. */
    static HttpResponse.BodySubscriber<byte[]> headOf(int max) {
        var kept = new ByteArrayOutputStream();
        return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofByteArrayConsumer(chunk -> chunk.ifPresent(bytes -> {
            int room = max - kept.size();
            if (room > 0) {
                kept.write(bytes, 0, Math.min(room, bytes.length));
            }
        })), done -> kept.toByteArray());
    }
}
