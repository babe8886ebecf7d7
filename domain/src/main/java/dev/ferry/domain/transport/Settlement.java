package dev.ferry.domain.transport;

import dev.ferry.domain.model.Delivery;
import java.util.Objects;

/** One delivery and what to do with it; acknowledgers carry these out in batches. */
public record Settlement(Delivery delivery, Disposition disposition) {

    public Settlement {
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(disposition, "disposition");
    }

    /**
     * A settlement the acknowledger could not carry out, and why.
     *
     * @param retryable whether the same settlement may succeed later (a timeout, a throttled or unreachable service).
     *                  For a {@code DeadLetter} it decides the message's fate: true, the dead letter is owed — the next
     *                  copy goes to the dead-letter destination unrun, on any instance; false (refused for good: a DLQ
     *                  that does not exist, a message it can never take), the next copy runs again with its attempts
     *                  anew. Report a dead-letter write that timed out, or whose answer was lost, as retryable.
     *                  Any other settlement is not sent again by the core, whatever this says: see {@link
     *                  Acknowledger}.
     */
    public record Failure(Settlement settlement, String reason, boolean retryable) {
    }
}
