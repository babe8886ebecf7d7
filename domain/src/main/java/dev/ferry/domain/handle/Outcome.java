package dev.ferry.domain.handle;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link Handler} (or a sink) made of one event. A decision is a value, not an exception.
 */
public sealed interface Outcome {

    /** The event's effect happened; it must not happen again. */
    record Done() implements Outcome {
    }

    /**
     * A real failure worth trying again. It counts against the retry policy's attempts; when they
     * run out the message is dead-lettered. {@code after} is the least delay the handler wants,
     * {@link Duration#ZERO} to let the backoff decide. A delay longer than the listener holds a message in hand
     * puts it back on its transport for that long, 12 hours at most (SQS's longest visibility): then it is tried again.
     */
    record Retry(Duration after, String reason) implements Outcome {
        public Retry {
            Objects.requireNonNull(after, "after");
            if (after.isNegative()) {
                throw new IllegalArgumentException("Retry.after must be >= 0, was " + after);
            }
            reason = reason == null ? "retry requested" : reason;
        }
    }

    /**
     * The downstream asked us to slow down (HTTP 429). Not a failure: it does not use up retry
     * attempts and never sends a message to the dead-letter queue on its own; it slows polling. The
     * message waits {@code retryAfter} and up to a tenth more (a minute at most), never less, so
     * messages throttled together do not all come back in the same instant. Put back on its transport, it comes back
     * after 12 hours at most, and is tried again; its receives are excused by the instance that was told to wait, in
     * memory (another instance, or this one after a restart, counts the receive towards the dead-letter limit).
     */
    record Throttled(Duration retryAfter) implements Outcome {
        public Throttled {
            Objects.requireNonNull(retryAfter, "retryAfter");
            if (retryAfter.isNegative()) {
                throw new IllegalArgumentException("Throttled.retryAfter must be >= 0, was " + retryAfter);
            }
        }
    }

    /** The event can never succeed as it is: dead-letter it with {@code reason}. */
    record Reject(String reason) implements Outcome {
        public Reject {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException("Reject needs a reason");
            }
        }
    }

    Outcome DONE = new Done();

    static Outcome done() {
        return DONE;
    }

    static Outcome retry(String reason) {
        return new Retry(Duration.ZERO, reason);
    }

    static Outcome retryAfter(Duration after, String reason) {
        return new Retry(after, reason);
    }

    static Outcome throttled(Duration retryAfter) {
        return new Throttled(retryAfter);
    }

    static Outcome reject(String reason) {
        return new Reject(reason);
    }
}
