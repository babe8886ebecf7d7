package dev.ferry.app;

/**
 * What a component or a plugin threw, as text that never throws itself: a plugin's exception whose
 * message is built lazily (or has a bug) throws from {@code getMessage()} or {@code toString()}, and
 * a report that concatenated it threw from inside its own catch — the readiness probe answered 500
 * and took a pod out of service while messages flowed, for one sink's health check.
 */
final class Thrown {

    private Thrown() {
    }

    /** As {@code toString()} says it ("class: message"); its class and message read apart when that throws, else its class. */
    static String describe(Throwable t) {
        return dev.ferry.domain.model.Thrown.describe(t);
    }

    /** Its message, as the endpoints answer it; {@link #describe} when it has none or it cannot be read. */
    static String message(Throwable t) {
        return dev.ferry.domain.model.Thrown.message(t);
    }

    /** {@code t} to hand a logger with: see {@link dev.ferry.domain.model.Thrown#loggable}. */
    static Throwable loggable(Throwable t) {
        return dev.ferry.domain.model.Thrown.loggable(t);
    }
}
