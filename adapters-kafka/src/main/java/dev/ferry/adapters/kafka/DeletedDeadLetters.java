package dev.ferry.adapters.kafka;

import dev.ferry.domain.parking.GroupParker;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * Dead letters a release's pass found deleted (the topic's retention) below where the key's last release had stopped.
 * Sought there, the consumer reset to the earliest offset left without a word, the release counted short, and the
 * group was unparked with its lost records untold; the pass now reads on from what is left and says what went.
 */
final class DeletedDeadLetters {

    private long count;
    private final List<String> where = new ArrayList<>();

    /** {@code partition}'s records from {@code cursor} up to {@code beginning} (its first left) are gone. */
    void add(TopicPartition partition, long cursor, long beginning) {
        count += beginning - cursor;
        where.add(partition + "@" + cursor + ".." + (beginning - 1));
    }

    boolean none() {
        return count == 0;
    }

    /**
     * {@code moved}, telling what was deleted (after why the pass stopped, if it did). Which key each deleted record
     * was of cannot be known any more: the count is of every key's.
     */
    GroupParker.Moved told(GroupParker.Moved moved, String group) {
        String said = count + " dead letter(s) were deleted by the topic's retention before they could be released ("
                + String.join(", ", where) + ", of any key): parked records of key " + group + " among them are lost; "
                + "what was left was moved";
        return new GroupParker.Moved(moved.counted(), moved.redriven(),
                moved.problem() == null ? said : moved.problem() + "; and " + said);
    }
}
