package dev.ferry.domain.parking;

import java.util.List;
import java.util.Optional;

/**
 * Port: where parked groups are kept, shared by every instance of a source (a ledger implements it
 * beside {@link dev.ferry.domain.idempotency.IdempotencyLedger}). A compare-and-set register per
 * (source, group); what the states mean is {@link GroupParker}'s business.
 *
 * <p>Contract: {@link #replaceParkedGroup} is atomic across instances; failures are thrown
 * (unchecked) and leave the stored state as it was.
 */
public interface GroupParking {

    /** The group's parked state; empty when it flows. */
    Optional<ParkedGroup> parkedGroup(String source, String group);

    /**
     * Replaces the stored state of {@code next}'s (or {@code expected}'s) group with {@code next}
     * (removes it when {@code next} is null) if it is still {@code expected}: compared by
     * {@link ParkedGroup#version()}, {@code expected} null meaning "none stored".
     *
     * @return whether it was replaced; false when another instance changed it first
     */
    boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next);

    /** Every parked group, of every source, in no particular order. */
    List<ParkedGroup> parkedGroups();

    /**
     * At most {@code limit} parked groups, in no particular order, and how many there are in all. A store
     * that can count them without reading each (and stop reading at {@code limit}) overrides it; this one
     * reads them all.
     */
    default ParkedGroupListing parkedGroups(int limit) {
        return ParkedGroupListing.of(parkedGroups(), limit);
    }
}
