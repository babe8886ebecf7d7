package dev.ferry.adapters.sqs;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * The digests SQS returns with every received message (MD5OfBody, MD5OfMessageAttributes),
 * computed the way SQS documents them, so a message damaged on the way is caught per message.
 */
final class Md5 {

    private static final byte STRING_TRANSPORT = 1;
    private static final byte BINARY_TRANSPORT = 2;

    private Md5() {
    }

    static String ofBody(String body) {
        return hex(digest().digest(body.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * SQS's attribute digest: for each attribute in name order, the name, the data type and the
     * value, each as a 4-byte big-endian length and its bytes, with a transport-type byte
     * (1 = string, 2 = binary) before the value.
     */
    static String ofAttributes(Map<String, MessageAttributeValue> attributes) {
        var md = digest();
        for (var e : new TreeMap<>(attributes).entrySet()) {
            var value = e.getValue();
            lengthPrefixed(md, e.getKey().getBytes(StandardCharsets.UTF_8));
            lengthPrefixed(md, value.dataType().getBytes(StandardCharsets.UTF_8));
            if (value.stringValue() != null) {
                md.update(STRING_TRANSPORT);
                lengthPrefixed(md, value.stringValue().getBytes(StandardCharsets.UTF_8));
            } else if (value.binaryValue() != null) {
                md.update(BINARY_TRANSPORT);
                lengthPrefixed(md, value.binaryValue().asByteArray());
            }
        }
        return hex(md.digest());
    }

    private static void lengthPrefixed(MessageDigest md, byte[] bytes) {
        md.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
        md.update(bytes);
    }

    private static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has MD5", e);
        }
    }

    /** Whether {@code id} is the hex SHA-256 of {@code body}: SQS's content-based deduplication id. */
    static boolean isSha256Of(String id, byte[] body) {
        if (id.length() != 64) {
            return false;
        }
        try {
            var hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
            return hex.equalsIgnoreCase(id);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
