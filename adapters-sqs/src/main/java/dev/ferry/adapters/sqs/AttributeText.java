package dev.ferry.adapters.sqs;

import java.nio.charset.StandardCharsets;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * An attribute's text as SQS carries it. A String attribute takes only some characters (tab, LF, CR, U+0020 to
 * U+D7FF, U+E000 to U+FFFD and the supplementary planes), and an S3 object key may hold any other — a control
 * character, which Kafka and HTTP carry as it is: sent as a String, SQS refused it, and the event was rejected,
 * dead-lettered again on every redrive. Such text goes as a Binary attribute of the type {@value #TYPE}, its UTF-8
 * bytes, and Ferry's SQS source reads it back as the same text. A Binary attribute of any other type (a
 * producer's own) stays bytes, seen in Base64: only what this type marks is read as text.
 */
final class AttributeText {

    /** The type of a Binary attribute that holds text SQS refuses in a String one: the text's UTF-8 bytes. */
    static final String TYPE = "Binary.ferry-utf8";

    private AttributeText() {
    }

    /** {@code text} as SQS takes it: a String attribute, or a {@value #TYPE} one when SQS refuses it as a String. */
    static MessageAttributeValue value(String text) {
        return sqsText(text) ? MessageAttributes.string(text)
                : MessageAttributeValue.builder().dataType(TYPE).binaryValue(SdkBytes.fromUtf8String(text)).build();
    }

    /** The text an attribute holds: a String or Number one's, a {@value #TYPE} one's; null for other bytes. */
    static String text(MessageAttributeValue value) {
        if (value.stringValue() != null) {
            return value.stringValue();
        }
        if (TYPE.equals(value.dataType()) && value.binaryValue() != null) {
            // not asUtf8String, which throws on bytes a producer marked so without their being UTF-8: a poll would fail
            return new String(value.binaryValue().asByteArrayUnsafe(), StandardCharsets.UTF_8);
        }
        return null;
    }

    /**
     * Whether UTF-8 holds {@code text} as it is: no half of a surrogate pair, which it turns into {@code ?} (no
     * attribute, String or Binary, carries it; Kafka's and HTTP's headers do the same).
     */
    static boolean utf8(String text) {
        return dev.ferry.domain.idempotency.LedgerKeys.wellFormed(text); // the ledger asks the same of its keys
    }

    /** Whether SQS takes every character: #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF (no lone surrogate). */
    static boolean sqsText(String text) {
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            boolean ok = c == 0x9 || c == 0xA || c == 0xD || c >= 0x20 && c <= 0xD7FF || c >= 0xE000 && c <= 0xFFFD
                    || c >= 0x10000 && c <= 0x10FFFF;
            if (!ok) {
                return false;
            }
            i += Character.charCount(c);
        }
        return true;
    }
}
