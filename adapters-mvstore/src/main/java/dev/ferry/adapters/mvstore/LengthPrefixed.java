package dev.ferry.adapters.mvstore;

import java.util.ArrayList;
import java.util.List;

/**
 * Strings in a map value, each written as {@code <length>:<chars>} ({@code -;} for null), so that no
 * character in them can break the record: how {@link ParkedGroups} and {@link Journals} keep theirs.
 */
final class LengthPrefixed {

    private LengthPrefixed() {
    }

    static void append(StringBuilder out, String... strings) {
        for (var s : strings) {
            if (s == null) {
                out.append("-;");
            } else {
                out.append(s.length()).append(':').append(s);
            }
        }
    }

    /** Reads {@code count} strings from {@code value} at {@code at[0]}, moving {@code at[0]} past them. */
    static List<String> read(String value, int[] at, int count) {
        var strings = new ArrayList<String>(count);
        for (int i = 0; i < count; i++) {
            if (value.startsWith("-;", at[0])) {
                strings.add(null);
                at[0] += 2;
                continue;
            }
            int colon = value.indexOf(':', at[0]);
            int length = Integer.parseInt(value, at[0], colon, 10);
            strings.add(value.substring(colon + 1, colon + 1 + length));
            at[0] = colon + 1 + length;
        }
        return strings;
    }
}
