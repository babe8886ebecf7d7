package dev.ferry.adapters.mvstore;

import dev.ferry.domain.idempotency.EventJournal;
import java.time.Instant;
import java.util.ArrayList;

/**
 * How {@link MvStoreLedger} writes an {@link EventJournal.Journal} in one map value: numbers and
 * instants (epoch millis, {@code -} for none) separated by {@code ;}, then the strings
 * length-prefixed, so a reason can hold any character.
 */
final class Journals {

    private Journals() {
    }

    static String encode(EventJournal.Journal j) {
        var out = new StringBuilder(96);
        out.append(j.failures()).append(';').append(millis(j.firstFailure())).append(';').append(millis(j.lastFailure()))
                .append(';').append(j.duplicates()).append(';').append(millis(j.lastDuplicate())).append(';')
                .append(millis(j.deadLetteredAt())).append(';');
        for (var s : new String[] {j.lastReason(), j.deadLetterReason(), j.messageId(), j.eventKey()}) {
            if (s == null) {
                out.append("-;");
            } else {
                out.append(s.length()).append(':').append(s);
            }
        }
        return out.toString();
    }

    static EventJournal.Journal decode(String value) {
        var numbers = new String[6];
        int at = 0;
        for (int i = 0; i < 6; i++) {
            int semi = value.indexOf(';', at);
            numbers[i] = value.substring(at, semi);
            at = semi + 1;
        }
        var strings = new ArrayList<String>(4);
        for (int i = 0; i < 4; i++) {
            if (value.startsWith("-;", at)) {
                strings.add(null);
                at += 2;
                continue;
            }
            int colon = value.indexOf(':', at);
            int length = Integer.parseInt(value, at, colon, 10);
            strings.add(value.substring(colon + 1, colon + 1 + length));
            at = colon + 1 + length;
        }
        return new EventJournal.Journal(Long.parseLong(numbers[0]), instant(numbers[1]), instant(numbers[2]), strings.get(0),
                Long.parseLong(numbers[3]), instant(numbers[4]), strings.get(1), instant(numbers[5]), strings.get(2),
                strings.get(3));
    }

    private static String millis(Instant at) {
        return at == null ? "-" : Long.toString(at.toEpochMilli());
    }

    private static Instant instant(String millis) {
        return millis.equals("-") ? null : Instant.ofEpochMilli(Long.parseLong(millis));
    }
}
