package dev.ferry.app;

/**
 * Text from messages (keys, group ids, reasons, a downstream's error body) made safe to print on an
 * operator's terminal: control characters (an ESC that starts a sequence that moves the cursor or
 * writes the clipboard, C1 controls, DEL), line and paragraph separators and bidirectional overrides
 * are written as backslash-u escapes, so what is printed is what the text holds, one line.
 */
final class Printable {

    private Printable() {
    }

    static String of(Object value) {
        String s = String.valueOf(value);
        for (int i = 0; i < s.length(); i++) {
            if (unsafe(s.charAt(i))) {
                return escaped(s);
            }
        }
        return s;
    }

    private static String escaped(String s) {
        var out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (unsafe(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    static boolean unsafe(char c) {
        return Character.getType(c) == Character.CONTROL // C0, DEL, C1
                || c == '\u2028' || c == '\u2029'
                || c >= '\u202a' && c <= '\u202e' || c >= '\u2066' && c <= '\u2069'; // bidi embeddings and isolates
    }
}
