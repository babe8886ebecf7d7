package dev.ferry.domain.parking;

/** Strings as a transport keeps them in an attribute, and bounded to fit one. */
final class TransportText {

    private TransportText() {
    }

    /**
     * What a transport keeps of a string in an attribute (XML's characters, as SQS takes them): control
     * characters but tab and newlines, U+FFFE and U+FFFF, and half a surrogate pair become {@code ?}. Kept
     * whole, a head with half a pair never matched its dead letter's reason, which the transport had
     * changed: {@code --skip-head} sent the poison message back and said it had dropped it.
     */
    static String safe(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            boolean ok = pair || c >= 0x20 && c < 0xD800 || c >= 0xE000 && c <= 0xFFFD || c == '\t' || c == '\n' || c == '\r';
            if (!ok) {
                if (out == null) {
                    out = new StringBuilder(s.length()).append(s, 0, i);
                }
                out.append('?');
            } else if (out != null) {
                out.append(c);
                if (pair) {
                    out.append(s.charAt(i + 1));
                }
            }
            if (pair) {
                i++;
            }
        }
        return out == null ? s : out.toString();
    }

    /** {@code key} itself, or when longer than {@code max} chars, its start and a hash of the whole. */
    static String bounded(String key, int max) {
        if (key.length() <= max) {
            return key;
        }
        int end = Character.isHighSurrogate(key.charAt(max - 1)) ? max - 1 : max;
        var units = new byte[key.length() * 2]; // UTF-16 code units: half a surrogate pair is hashed as itself
        for (int i = 0; i < key.length(); i++) {
            units[2 * i] = (byte) (key.charAt(i) >> 8);
            units[2 * i + 1] = (byte) key.charAt(i);
        }
        try {
            var digest = java.security.MessageDigest.getInstance("SHA-256").digest(units);
            return key.substring(0, end) + "… (" + key.length() + " chars, sha256 "
                    + java.util.HexFormat.of().formatHex(digest, 0, 8) + ")";
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
