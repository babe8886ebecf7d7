package dev.ferry.domain.transport;

import java.time.Duration;
import java.util.Objects;

/** What the core tells an adapter to do with a delivery. */
public sealed interface Disposition {

    /** Done: remove it from the transport (SQS DeleteMessage, Kafka commit). */
    record Ack() implements Disposition {
    }

    /** Put it back, visible again after {@code delay} (SQS ChangeMessageVisibility). */
    record Redeliver(Duration delay) implements Disposition {
        public Redeliver {
            Objects.requireNonNull(delay, "delay");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("Redeliver.delay must be >= 0, was " + delay);
            }
        }
    }

    /** Put it back now, untouched: the tail of a failed group, or work not started at shutdown. */
    record Release() implements Disposition {
    }

    /** Move it to the dead-letter destination with {@code reason}; only then remove it. */
    record DeadLetter(String reason) implements Disposition {
        public DeadLetter {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException("DeadLetter needs a reason");
            }
        }
    }

    Disposition ACK = new Ack();
    Disposition RELEASE = new Release();

    static Disposition redeliver(Duration delay) {
        return new Redeliver(delay);
    }

    static Disposition deadLetter(String reason) {
        return new DeadLetter(reason);
    }
}
