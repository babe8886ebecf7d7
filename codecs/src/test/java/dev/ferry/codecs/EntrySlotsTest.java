package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A fast path sizes its entry slots from the body's length: a large body of one entry (a padded MTurk
 * document on an HTTP source with a large body limit) took megabytes of slots per decode, though no
 * message may hold more than {@link EntrySlots#MAX_ENTRIES} entries (a review).
 */
class EntrySlotsTest {

    private static final class Read extends EntrySlots {
        Read() {
            super(new Scan(JsonLimits.defaults()), 4);
        }
    }

    @Test
    void aLargeBodyOfOneEntry_takesNoMoreSlotsThanTheMostEntriesAMessageMayHold() {
        byte[] body = ("[1]" + " ".repeat(1 << 20)).getBytes(StandardCharsets.US_ASCII);
        var state = new Read();
        int end = EntrySlots.entries(state, body, 0, 180, (s, b, index, p) -> {
            s.begin(index, p, 0);
            return s.end(index, p + 1);
        });
        assertThat(end).as("the array read, to its ']'").isEqualTo(3);
        assertThat(state.count).isEqualTo(1);
        assertThat(state.slots.length).isLessThanOrEqualTo(state.stride * EntrySlots.MAX_ENTRIES);
    }
}
