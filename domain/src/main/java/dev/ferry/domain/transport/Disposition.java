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

    /**
     * Move it to the dead-letter destination with {@code reason}; only then remove it. A reason longer
     * than {@link #MAX_REASON} characters is cut there, saying how much was cut: a handler that rejects
     * with its payload or every violation it found (megabytes) is carried in memory while its copy waits,
     * in an HTTP ingest answer for each event of a batch and in every adapter's dead letter.
     */
    record DeadLetter(String reason) implements Disposition {
        /** The longest reason kept, in characters. */
        public static final int MAX_REASON = 8_192;

        public DeadLetter {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException("DeadLetter needs a reason");
            }
            if (reason.length() > MAX_REASON) {
                int end = MAX_REASON - 64; // room for what says how much was cut
                if (Character.isHighSurrogate(reason.charAt(end - 1))) {
                    end--; // never half a character
                }
                reason = reason.substring(0, end) + "… (" + (reason.length() - end) + " more characters)";
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
