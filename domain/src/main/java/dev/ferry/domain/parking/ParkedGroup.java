package dev.ferry.domain.parking;

import java.time.Instant;
import java.util.Objects;

/**
 * A parked ordering group of one source, as the ledger keeps it.
 *
 * @param source         the Ferry source's name
 * @param group          the ordering group (SQS FIFO message group, Kafka record key)
 * @param head           the event key (or message id, when it could not be decoded) the group waits behind
 * @param headMessageId  the transport's id of the head message
 * @param reason         why the head was dead-lettered
 * @param since          when the group was parked
 * @param lastParked     when a message of the group was last sent to the dead-letter destination
 * @param parked         messages of the group sent to the dead-letter destination since it was parked, the head
 *                       included (a message delivered again may be counted twice: a hint, see {@link GroupParker#finish})
 * @param moved          of those, how many a release took out of the dead-letter destination again
 * @param releaseToken   the release under way (its messages carry it and pass), null when none
 * @param redriven       messages the release under way sent back to the source, numbered 1, 2, ... in order
 * @param passed         the highest of those numbers a listener has handled (they pass in order)
 * @param closing        the release has sent everything back; the group flows again once all of it has passed
 * @param version        bumped on every change (the store compares it)
 */
public record ParkedGroup(String source, String group, String head, String headMessageId, String reason, Instant since,
                          Instant lastParked, long parked, long moved, String releaseToken, long redriven, long passed,
                          boolean closing, long version) {

    public ParkedGroup {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(lastParked, "lastParked");
    }

    /** Messages of the group waiting in (or on their way to) the dead-letter destination. */
    public long waiting() {
        return Math.max(0, parked - moved);
    }

    /**
     * Whether the release under way has taken every message parked with the group out of the dead-letter destination
     * and every one it sent back has been handled: nothing of the group waits, and a message that arrives now came
     * after them all — it goes on, where parked behind them it would keep a release from ending while the producer
     * sends. (A message counted twice keeps this false: parked, it waits for the release, as before; so does a move
     * counted twice, more moved than parked.)
     */
    public boolean drained() {
        return releaseToken != null && moved == parked && passed >= redriven;
    }

    /** Whether a message carrying {@code token} belongs to the release under way. */
    public boolean passes(String token) {
        return releaseToken != null && releaseToken.equals(token);
    }

    ParkedGroup next(String head, String headMessageId, String reason, Instant lastParked, long parked, long moved,
                     String releaseToken, long redriven, long passed, boolean closing) {
        return new ParkedGroup(source, group, head, headMessageId, reason, since, lastParked, parked, moved, releaseToken,
                redriven, passed, closing, version + 1);
    }
}
