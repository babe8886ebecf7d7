package dev.ferry.domain.transport;

import dev.ferry.domain.model.Delivery;
import java.util.Objects;

/** One delivery and what to do with it; acknowledgers carry these out in batches. */
public record Settlement(Delivery delivery, Disposition disposition) {

    public Settlement {
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(disposition, "disposition");
    }

    /** A settlement the acknowledger could not carry out, and why. */
    public record Failure(Settlement settlement, String reason, boolean retryable) {
    }
}
