package dev.ferry.domain.parking;

import dev.ferry.domain.model.FerryException;
import java.util.function.UnaryOperator;

/** The writes of a parked group's state: compare-and-set on the shared store, tried again when another instance won. */
final class ParkedGroupWrites {

    private static final int MAX_TRIES = 64;

    private ParkedGroupWrites() {
    }

    /**
     * After a write that lost to another: at once twice, then a few milliseconds, jittered and growing to 31 —
     * many instances parking at once meet on the store's shared items (DynamoDB's parked-group index answers
     * overlapping transactions with a conflict), and 64 tries in a spin were over before the others were.
     */
    private static void backOff(int tries) {
        if (tries < 2) {
            Thread.onSpinWait();
            return;
        }
        try {
            Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 1L << Math.min(tries, 5)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FerryException("interrupted while waiting to write a parked group again", e, true);
        }
    }

    /** Applies {@code change} to the stored state until no other instance changed it in between. */
    static ParkedGroup update(GroupParking store, String source, String group, UnaryOperator<ParkedGroup> change) {
        for (int i = 0; i < MAX_TRIES; i++) {
            var current = store.parkedGroup(source, group).orElse(null);
            var next = change.apply(current);
            if (next == current || store.replaceParkedGroup(current, next)) {
                return next;
            }
            backOff(i);
        }
        throw new FerryException("parked group " + group + " of '" + source + "' kept changing under " + MAX_TRIES
                + " tries", true);
    }
}
