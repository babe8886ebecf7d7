package dev.ferry.adapters.sqs;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A payload as the text of an SQS message body, which takes only some characters: tab, LF, CR,
 * U+0020 to U+D7FF, U+E000 to U+FFFD and the supplementary planes. Bytes that are not UTF-8, or
 * text with other control characters, SQS refuses (or a lossy decoding would change them): no body.
 */
final class SqsText {

    private SqsText() {
    }

    /** The payload as text SQS takes as it is; null when there is none. */
    static String of(byte[] payload) {
        boolean ascii = true;
        for (byte b : payload) {
            if (b < 0) { // not ASCII: looked at closer below
                ascii = false;
                break;
            }
            if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') {
                return null;
            }
        }
        if (ascii) {
            return new String(payload, StandardCharsets.US_ASCII);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == '\uFFFE' || c == '\uFFFF') {
                return null;
            }
        }
        return text;
    }
}
