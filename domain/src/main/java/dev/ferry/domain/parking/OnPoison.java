package dev.ferry.domain.parking;

/**
 * What an ordered source does when a group's message is dead-lettered (its attempts exhausted, the
 * handler rejected it, it could not be decoded): the group's later messages go on, or wait.
 */
public enum OnPoison {
    /** The poison message goes to the dead-letter destination and its group goes on: progress over order. */
    SKIP,
    /**
     * The group is parked: the poison message and every later message of its group go to the
     * dead-letter destination in their order, each saying which message it waits behind, until an
     * operator releases the group ({@link GroupParker#beginRelease}). Other groups flow. The parked
     * state lives in the ledger ({@link GroupParking}), so every instance sees it.
     */
    PARK
}
