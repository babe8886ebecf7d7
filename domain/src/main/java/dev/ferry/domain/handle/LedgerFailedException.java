package dev.ferry.domain.handle;

import dev.ferry.domain.model.FerryException;
import java.util.Objects;

/**
 * Thrown by a handler (or the cause of what it throws, to a depth of eight) whose own call to an idempotency ledger
 * failed — a fan-out target's mark ({@code RoutingHandler}), a step of its own it keeps in a ledger — so that the
 * event could not be handled for the store's sake, not its own. The listener treats it as a failure of its own ledger
 * calls: the delivery waits in hand (no attempt spent), the failure is counted as the ledger's, and the source is not
 * ready while it lasts. Unlike {@link Outcome.Throttled}, which says a downstream is overloaded: a ledger failure
 * answered that way was reported as a sink throttling, paused the intake, and left readiness and the ledger's
 * failure count untouched. A {@link FerryException}, retryable.
 */
public final class LedgerFailedException extends FerryException {

    private static final long serialVersionUID = 1L;

    private final String operation;

    /**
     * @param operation what the handler asked the ledger, for the logs and readiness (a target's mark claim)
     * @param cause     what the ledger threw
     */
    public LedgerFailedException(String operation, Throwable cause) {
        super("the ledger failed at " + Objects.requireNonNull(operation, "operation"), cause, true);
        this.operation = operation;
    }

    /** What the handler asked the ledger. */
    public String operation() {
        return operation;
    }
}
