package dev.ferry.domain.model;

/**
 * Root of Ferry's technical failures. Decisions ("retry later", "dead-letter this") are
 * values ({@code Outcome}, {@code Disposition}), never exceptions; this type is for things
 * that went wrong: a transport call failed, a store could not be reached, a config is broken.
 *
 * <p>{@link #retryable()} says whether doing the same thing again may succeed.
 */
public class FerryException extends RuntimeException {

    private final boolean retryable;

    public FerryException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public FerryException(String message, Throwable cause, boolean retryable) {
        super(message, cause);
        this.retryable = retryable;
    }

    /** True when the same call may succeed if tried again (a timeout, a throttled API call). */
    public boolean retryable() {
        return retryable;
    }
}
