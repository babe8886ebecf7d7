package dev.ferry.domain.handle;

import dev.ferry.domain.model.FerryException;
import java.time.Duration;
import java.util.Objects;

/**
 * Thrown by a handler (or the cause of what it throws, to a depth of eight) that finds part of its work claimed by another worker — a fan-out target's
 * mark in the ledger ({@code RoutingHandler}), a step of its own it keeps in an
 * {@code IdempotencyLedger} — and must wait for it. The listener treats it as it treats an event's
 * claim held elsewhere: the delivery waits in hand (asked again at least every second, sent back
 * when the wait is longer than the hold limit), no attempt is spent, and the source's intake goes on.
 * Unlike {@link Outcome.Throttled}, which says the downstream is overloaded and pauses intake.
 * A {@link FerryException}, retryable: what catches it as one waits and tries again.
 *
 * <p>The event's own claim is released while it waits; the work done so far should be recorded
 * (a completed mark) so that the next call skips it.
 */
public final class HeldElsewhereException extends FerryException {

    private static final long serialVersionUID = 1L;

    private final transient Duration remaining;

    /**
     * @param what      what is held, for the logs (a target's name)
     * @param remaining how long the other worker's claim lasts at most (one that ended meanwhile: zero or
     *                  less, asked again at once); null when unknown (asked again within a second)
     */
    public HeldElsewhereException(String what, Duration remaining) {
        super(Objects.requireNonNull(what, "what") + " is claimed by another worker"
                + (remaining == null ? "" : " for up to " + (remaining.isNegative() ? Duration.ZERO : remaining) + " more"),
                true);
        this.remaining = remaining == null || !remaining.isNegative() ? remaining : Duration.ZERO;
    }

    /** How long the other worker's claim lasts at most; null when the ledger did not say. */
    public Duration remaining() {
        return remaining;
    }
}
