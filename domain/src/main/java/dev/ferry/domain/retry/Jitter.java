package dev.ferry.domain.retry;

/** How much randomness a backoff adds, so many clients failing together do not retry together. */
public enum Jitter {
    /** The computed delay exactly. */
    NONE,
    /** Uniform in [delay/2, delay]: spreads retries while keeping a floor. */
    HALF,
    /** Uniform in [0, delay]: the widest spread ("full jitter"). */
    FULL
}
