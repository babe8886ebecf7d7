package dev.ferry.adapters.mvstore;

import dev.ferry.domain.idempotency.EventJournal;
import java.time.Instant;

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
        LengthPrefixed.append(out, j.lastReason(), j.deadLetterReason(), j.messageId(), j.eventKey());
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
        var strings = LengthPrefixed.read(value, new int[] {at}, 4);
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
