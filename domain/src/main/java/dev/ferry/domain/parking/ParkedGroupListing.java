package dev.ferry.domain.parking;

import java.util.List;
import java.util.Objects;

/**
 * Some of the parked groups — at most the number asked for, in no particular order — and how many
 * there are in all: a bad deploy that parks every group of a key per order parks hundreds of
 * thousands, and a listing of all of them on each console refresh filled the memory and took the
 * ledger's capacity from the claims.
 *
 * @param groups the groups read
 * @param total  how many are parked in all
 */
public record ParkedGroupListing(List<ParkedGroup> groups, long total) {

    public ParkedGroupListing {
        groups = List.copyOf(Objects.requireNonNull(groups, "groups"));
        if (total < groups.size()) {
            throw new IllegalArgumentException("total " + total + " is less than the " + groups.size() + " groups read");
        }
    }

    /** Whether every parked group is in {@link #groups}. */
    public boolean complete() {
        return groups.size() == total;
    }

    /** At most {@code limit} of {@code all}. */
    public static ParkedGroupListing of(List<ParkedGroup> all, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        return new ParkedGroupListing(all.size() <= limit ? all : all.subList(0, limit), all.size());
    }
}
