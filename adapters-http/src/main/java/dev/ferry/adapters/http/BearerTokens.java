package dev.ferry.adapters.http;

/**
 * Bearer tokens as secrets arrive: a file or an environment variable mounted from a secret often ends with a
 * newline, and one written by some editors starts with a byte-order mark. Neither can be sent in a header (the
 * JDK refuses the request, quoting the value — the secret — in its message) nor received in one (HTTP trims the
 * whitespace around a header's value). They are stripped; a character no header can carry that is left is
 * refused with where it is, never with the token itself.
 */
final class BearerTokens {

    private BearerTokens() {
    }

    /** The token in environment variable {@code variable}, {@link #clean cleaned}; refused if not set. */
    static String fromEnv(String variable) {
        String raw = System.getenv(variable);
        if (raw == null || raw.isBlank()) {
            throw new IllegalArgumentException("bearer token: environment variable " + variable + " is not set");
        }
        return clean(raw, "from environment variable " + variable);
    }

    /** {@code raw} without surrounding whitespace and byte-order marks; refused if empty or not sendable. */
    static String clean(String raw, String from) {
        int start = 0;
        int end = raw.length();
        while (start < end && ignorable(raw.charAt(start))) {
            start++;
        }
        while (end > start && ignorable(raw.charAt(end - 1))) {
            end--;
        }
        if (start == end) {
            throw new IllegalArgumentException("bearer token " + from + " is empty");
        }
        for (int i = start; i < end; i++) {
            char c = raw.charAt(i);
            if (c < 0x21 || c > 0x7e) { // a token is visible ASCII (RFC 6750's b64token, leniently)
                throw new IllegalArgumentException("bearer token " + from + " has a character no HTTP header can carry"
                        + " at position " + (i - start + 1) + " (U+" + String.format("%04X", (int) c) + ")");
            }
        }
        return raw.substring(start, end);
    }

    private static boolean ignorable(char c) {
        return Character.isWhitespace(c) || c == '\uFEFF' || Character.isSpaceChar(c);
    }
}
