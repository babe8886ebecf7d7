package dev.ferry.domain.transport;

/**
 * Attribute names every adapter writes on a dead-lettered message, beside the message's own
 * attributes, so a DLQ reads the same whatever transport it is on.
 */
public final class DeadLetterAttributes {

    /** Why the message was dead-lettered, e.g. {@code malformed: Events[0].EventType missing}. */
    public static final String REASON = "ferry.deadLetter.reason";
    /** The name of the queue or topic the message was taken from (what a redrive back to it needs). */
    public static final String SOURCE = "ferry.deadLetter.sourceQueue";
    /** The name of the Ferry source that took it, where that differs from the queue's name. */
    public static final String SOURCE_NAME = "ferry.deadLetter.source";
    /** How many times the transport had handed the message out. */
    public static final String RECEIVE_COUNT = "ferry.deadLetter.receiveCount";
    /**
     * The mark a redrive's copy carries (its run): with a release's ({@code ferry.release}), it says the
     * message was moved back from a dead-letter queue — the event it carries may have been partly done.
     */
    public static final String REDRIVE = "ferry.redrive";
    /** The prefix all of them share; redrive strips attributes that carry it. */
    public static final String PREFIX = "ferry.deadLetter.";

    private DeadLetterAttributes() {
    }
}
