package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.ParkedGroup;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the CLI prints of message content (keys, groups, reasons) cannot drive the operator's terminal. */
class PrintableTest {

    private static final String HOSTILE = "k\u001b]52;c;eA==\u0007\u001b[2J\u009b1A\u202eevil\u2028";

    private static void assertInert(String printed) {
        assertThat(printed.chars().filter(c -> Printable.unsafe((char) c) && c != '\n')).as(printed).isEmpty();
    }

    @Test
    void eventsShow_escapesWhatTheMessagesBrought() {
        String text = EventActions.text(List.of(Map.of("key", HOSTILE, "source", "s", "status", "dead-lettered",
                "failures", 1, "last_reason", "HTTP 400: " + HOSTILE, "dead_letter_reason", HOSTILE, "message_id", HOSTILE)));
        assertInert(text);
        assertThat(text).contains("k\\u001b]52;c;eA==\\u0007\\u001b[2J\\u009b1A\\u202eevil\\u2028");
    }

    @Test
    void groupsList_escapesKafkaKeysHeadsAndReasons() {
        var parked = new ParkedGroup("orders", HOSTILE, HOSTILE, "m-1", "rejected: " + HOSTILE, Instant.EPOCH, Instant.EPOCH, 3,
                0, null, 0, 0, false, 1);
        String table = GroupActions.table(List.of(parked));
        assertInert(table);
        assertThat(table).contains("\\u001b[2J");
        assertThat(Printable.of("plain key é 😀")).isEqualTo("plain key é 😀");
    }

    @Test // a review: an event whose key the ledger holds hashed (past 1,024 bytes), looked up by message id, was said
          // "not decoded" — a done or dead-lettered event
    void anEventWhoseKeyIsHeldHashed_isNotSaidNotDecoded() {
        var report = new dev.ferry.domain.idempotency.EventLookup.Report("h:0123abcd",
                new dev.ferry.domain.idempotency.Claim.Completed("h:0123abcd", Instant.EPOCH), null);
        var json = EventActions.json(new EventActions.Found("s", null, report, Map.of()));

        assertThat(json).containsEntry("key_hashed", true);
        assertThat(EventActions.text(List.of(json))).contains("held hashed").doesNotContain("not decoded");
        var undecoded = EventActions.json(new EventActions.Found("s", null,
                new dev.ferry.domain.idempotency.EventLookup.Report(null, null, null), Map.of()));
        assertThat(EventActions.text(List.of(undecoded))).contains("(not decoded)");
    }
}
