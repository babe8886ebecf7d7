package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.LogTruncationException;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the consumer reads a partition from when the group has no offset for it, or when the one it reads at is not in
 * the log any more. Under {@code auto.offset.reset: earliest} the client moved such a position itself and said so at
 * INFO, in a logger the app keeps at WARN: records a topic's retention deleted while the group had not read them (a
 * partition paused behind a sink outage, a group stopped) were skipped without a word. So where the user chose
 * {@code earliest} (Ferry's default) the consumer runs with {@code none}, the client throws from poll instead, and the
 * position is moved here as {@code earliest} would have moved it, saying what was lost. A group's first read of a
 * partition starts at its first record without a word: nothing is lost there. Where the user chose anything else
 * nothing is done here: under {@code none} the consumer dies and is replaced, as before. A position moved back, before
 * records in hand, gets its partition a new buffer; one moved anywhere is where the partition's commit may go once
 * nothing is undone ({@link ReadPositions}). Used by the consumer thread.
 */
final class OffsetResets {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class); // where the source's warnings are
    /** How long each look-up of the partitions' first and end offsets may hold up the consumer thread. */
    private static final Duration WAIT = Duration.ofSeconds(5);

    private final String name;
    private final Map<String, Object> consumerConfig;
    /** Whether the positions are moved here: the user's choice was {@code earliest}. */
    private final boolean ours;
    private final PartitionBuffers buffers;

    /**
     * Resets for the source {@code name}, whose consumer settings (Ferry's and the user's) are {@code given}, and whose
     * records in hand are in {@code buffers}.
     */
    OffsetResets(String name, Map<String, Object> given, PartitionBuffers buffers) {
        this.name = name;
        this.buffers = buffers;
        Object chosen = given.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG);
        this.ours = chosen != null && chosen.toString().trim().equalsIgnoreCase("earliest");
        this.consumerConfig = new HashMap<>(given);
        if (ours) {
            consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        }
    }

    /** The consumer's settings: the user's, with {@code auto.offset.reset: none} where the resets are ours. */
    Map<String, Object> consumerConfig() {
        return consumerConfig;
    }

    /**
     * Moves the positions {@code e} says {@code consumer} has none of, or has outside the log, and warns of records
     * lost. False, with nothing done, when {@code e} says something else, when the resets are the user's, or when the
     * partitions' offsets cannot be looked up: the caller treats {@code e} as any other failure. A wakeup while
     * looking goes on (the source closes).
     */
    boolean reset(Consumer<?, ?> consumer, KafkaException e) {
        if (!ours) {
            return false;
        }
        return switch (e) {
            case NoOffsetForPartitionException missing -> {
                var owned = owned(consumer, missing.partitions());
                if (!owned.isEmpty()) {
                    consumer.seekToBeginning(owned);    // where earliest starts a group: at the first record kept
                }
                yield true;
            }
            case OffsetOutOfRangeException outside -> moveIntoLog(consumer, outside);
            default -> false;
        };
    }

    /**
     * Moves each of the consumer's partitions {@code e} names into its log. Where their first offsets cannot be looked
     * up (a broker slow or changing leaders) nothing is moved: the next fetch meets the same position and asks again,
     * the other partitions going on meanwhile (replaced, the consumer re-ran what it had in hand, and the group
     * rebalanced, where the client's own reset only retried).
     */
    private boolean moveIntoLog(Consumer<?, ?> consumer, OffsetOutOfRangeException e) {
        var at = new HashMap<>(e.offsetOutOfRangePartitions());
        at.keySet().retainAll(consumer.assignment());
        if (at.isEmpty()) {
            return true;    // none is the consumer's any more: its next owner starts where the group committed
        }
        Map<TopicPartition, Long> first;
        try {
            first = consumer.beginningOffsets(at.keySet(), WAIT);
        } catch (WakeupException wakeup) {
            throw wakeup;
        } catch (RuntimeException unknown) {
            LOG.debug("Kafka source '{}': the first offsets of {} could not be looked up ({}); asked again at the next "
                    + "fetch", name, at.keySet(), unknown.toString());
            return true;
        }
        Map<TopicPartition, Long> end;
        try {
            end = consumer.endOffsets(at.keySet(), WAIT);   // for the line only
        } catch (WakeupException wakeup) {
            throw wakeup;
        } catch (RuntimeException unknown) {
            end = Map.of();
        }
        if (at.keySet().stream().anyMatch(tp -> first.get(tp) == null)) {
            return true;        // not known, as when the look-up fails: nothing is moved on a guess, asked again
        }
        // a cut found by the leader epochs (an unclean leader election): earliest goes on where the logs part
        Map<TopicPartition, OffsetAndMetadata> cut = e instanceof LogTruncationException truncated
                ? truncated.divergentOffsets() : Map.of();
        var ends = end;
        at.forEach((tp, offset) -> move(consumer, tp, offset, first.get(tp), ends.get(tp), cut.get(tp)));
        return true;
    }

    /**
     * Moves {@code tp}, read at {@code at}, to where {@code earliest} would: where its log was cut, else to its first
     * record, and says what that means. A position past the end goes to the first record too, not to the end: records
     * handled before then come again, and the ledger drops them (their deduplication ids hold their leader epoch and
     * timestamp), while the end would skip every record written since the log was cut or the topic made anew.
     */
    private void move(Consumer<?, ?> consumer, TopicPartition tp, long at, long first, Long end,
                      OffsetAndMetadata cut) {
        String where = "Kafka source '" + name + "': " + tp + ": ";
        if (cut != null) {
            long from = readAgain(consumer, tp, cut.offset());
            LOG.warn(where + "its log was cut back to offset " + cut.offset() + " (an unclean leader election): the "
                    + "records the group read at offsets " + cut.offset() + " to " + (at - 1) + " are no longer in the "
                    + "topic; the group goes on from offset " + cut.offset() + ", where the records written since are"
                    + (from < cut.offset() ? " (read again from offset " + from + ": records before the cut it had in "
                    + "hand, not yet handled)" : ""));
        } else if (at < first) {
            consumer.seek(tp, first);   // not to the beginning: records deleted meanwhile are said at the next fetch
            buffers.positions.moved(tp, first);     // committed once nothing before is undone: not said at every start
            long gone = first - at;
            LOG.warn(where + "offsets " + at + " to " + (first - 1) + " (" + gone
                    + (gone == 1 ? " record" : " records") + ") were deleted, by the topic's retention or a deletion "
                    + "of records, before the group read them: they are lost, not handled; the group goes on from "
                    + "offset " + first + " (a retention shorter than the group may fall behind, stopped or paused "
                    + "behind a sink, loses records)");
        } else {
            readAgain(consumer, tp, first);
            LOG.warn(where + "offset " + at + ", where the group was reading, is not in the log as it was "
                    + (end == null ? "" : end <= at ? "(past its end, now " + end + ") " : "(its end is now " + end + ") ")
                    + "— the log was cut back (an unclean leader election) or the topic made anew. The group reads it "
                    + "again from its first offset, " + first + ": records handled before come again and the ledger "
                    + "drops those it has recorded");
        }
    }

    /**
     * Moves {@code tp} back to {@code to}, before records in hand, and returns where it is read from now. Its buffer is
     * replaced, as at an assignment. Kept, the old log's records held the offsets the new log's records are read at:
     * each new one was skipped as held already, the old one handled in its place and the commit moved past it; and the
     * commit waited for the old log's offsets. The old records are refused at settle, as a revoked partition's: from
     * {@code to} on they are gone from the log, or read again with it. Those before {@code to} (a cut keeps them) are
     * read again too, from the first one not done: else the new buffer's commit would pass them, never handled.
     */
    private long readAgain(Consumer<?, ?> consumer, TopicPartition tp, long to) {
        Long undone = buffers.assigned(List.of(tp)).get(tp);
        long from = undone != null && undone >= 0 ? Math.min(to, undone) : to;
        consumer.seek(tp, from);
        buffers.positions.moved(tp, from);
        return from;
    }

    /** Those of {@code partitions} assigned to {@code consumer}. */
    private static Set<TopicPartition> owned(Consumer<?, ?> consumer, Set<TopicPartition> partitions) {
        var owned = new HashSet<>(partitions);
        owned.retainAll(consumer.assignment());
        return owned;
    }
}
