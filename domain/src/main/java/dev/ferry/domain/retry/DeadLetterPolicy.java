package dev.ferry.domain.retry;

/**
 * When the transport's own receive count says a message has been tried too often — for instance
 * because it crashed workers before any outcome was recorded — it is dead-lettered.
 * Receives that ended throttled are subtracted when the engine knows them.
 */
public record DeadLetterPolicy(int maxReceives) {

    public DeadLetterPolicy {
        if (maxReceives < 1) {
            throw new IllegalArgumentException("maxReceives must be >= 1, was " + maxReceives);
        }
    }

    public static DeadLetterPolicy maxReceives(int maxReceives) {
        return new DeadLetterPolicy(maxReceives);
    }

    /** 10 receives, a common "Max Receives" of an SQS redrive policy. */
    public static DeadLetterPolicy defaults() {
        return new DeadLetterPolicy(10);
    }

    public boolean exceeded(int countedReceives) {
        return countedReceives > maxReceives;
    }
}
