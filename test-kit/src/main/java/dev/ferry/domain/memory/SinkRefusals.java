package dev.ferry.domain.memory;

import dev.ferry.domain.idempotency.LedgerKeys;
import dev.ferry.domain.model.Event;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * What an {@link InMemoryQueue}, as a sink, refuses: what SQS and Ferry's SQS sink refuse, so that a
 * route publishing it is rejected in a test as it is in production, not answered done. Messages sent
 * by {@link InMemoryQueue#send} are not held to it: a test may put any bytes in to see its decoder
 * refuse them.
 */
final class SinkRefusals {

    /** SQS's largest message: its body and its attributes' names and values, in bytes. */
    static final int MAX_MESSAGE_BYTES = 1_048_576;

    private SinkRefusals() {
    }

    /** Why {@code event} may not be published to queue {@code queue}; null when it may. */
    static String of(Event event, String queue, boolean fifo) {
        if (fifo && event.groupKey() == null) {
            return "queue '" + queue + "' is FIFO but event " + event.key() + " has no group key";
        }
        byte[] payload = event.payload();
        if (payload.length == 0) {
            return "event " + event.key() + "'s payload is empty, and SQS takes no message without a body: refused before "
                    + "sending it to queue '" + queue + "'";
        }
        if (!sqsText(payload)) {
            return "event " + event.key() + "'s payload is not text SQS takes (UTF-8 without control characters other "
                    + "than tab, LF and CR): refused before sending it to queue '" + queue + "'";
        }
        for (Map.Entry<String, String> a : event.attributes().entrySet()) {
            if (!LedgerKeys.wellFormed(a.getKey()) || !LedgerKeys.wellFormed(a.getValue())) {
                // a preview cut inside an emoji: done here, rejected (and dead-lettered on every redrive) by the SQS sink
                return "event " + event.key() + "'s attribute '" + a.getKey() + "' holds half a surrogate pair, which SQS "
                        + "does not carry (no UTF-8 text holds it): refused before sending it to queue '" + queue + "'";
            }
        }
        // names, types and values as the SQS sink sends them (past ten, or refused by SQS, folded into one), as SQS counts
        long bytes = payload.length + SqsAttributeBytes.of(event.attributes(), dev.ferry.domain.transport.Propagation.current());
        if (bytes > MAX_MESSAGE_BYTES) {
            return "event " + event.key() + " is " + bytes + " bytes with its attributes; SQS takes at most "
                    + MAX_MESSAGE_BYTES + ": refused before sending it to queue '" + queue + "'";
        }
        return null;
    }

    private static final java.util.regex.Pattern SQS_ID = java.util.regex.Pattern.compile("[\\p{Alnum}\\p{Punct}]{1,128}");
    private static final String HASHED = "ferry-sha256:";

    /**
     * A FIFO group or deduplication id as Ferry's SQS sink sends it: the value when SQS takes it (1 to 128 printable ASCII
     * characters), else its SHA-256 in hex (of its UTF-16 units, "u:"-prefixed, when it is not well-formed text). The
     * downstream handler sees what it would see behind SQS: a key "order 42" arrives as its hash.
     */
    static String sqsId(String value) {
        if (value == null || SQS_ID.matcher(value).matches()) {
            return value;
        }
        return hashed(value);
    }

    /**
     * A FIFO deduplication id as the SQS sink sends it: the value when SQS takes it, else "ferry-sha256:" and its hash (as
     * {@link #sqsId} hashes), as is a value that begins so — no key is another's id.
     */
    static String sqsDedupId(String value) {
        return value == null || SQS_ID.matcher(value).matches() && !value.startsWith(HASHED) ? value : HASHED + hashed(value);
    }

    private static String hashed(String value) {
        if (!LedgerKeys.wellFormed(value)) {
            return LedgerKeys.bounded(value);
        }
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Whether {@code payload} is UTF-8 of the characters an SQS body holds: tab, LF, CR, U+0020 on, no U+FFFE or U+FFFF. */
    private static boolean sqsText(byte[] payload) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == '\uFFFE' || c == '\uFFFF') {
                return false;
            }
        }
        return true;
    }
}
