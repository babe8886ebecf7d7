package dev.ferry.adapters.sqs;

import dev.ferry.domain.idempotency.LedgerKeys;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Message group and deduplication ids as SQS takes them (1 to 128 printable ASCII characters). */
final class SqsIds {

    private static final Pattern SQS_ID = Pattern.compile("[\\p{Alnum}\\p{Punct}]{1,128}");
    /** What a deduplication id {@link #dedupId} hashes begins with: no key SQS takes as it is does, unless hashed too. */
    static final String HASHED = "ferry-sha256:";

    private SqsIds() {
    }

    /** Whether SQS takes {@code value} as an id as it is. */
    static boolean valid(String value) {
        return SQS_ID.matcher(value).matches();
    }

    /**
     * A group or deduplication id SQS accepts: the value itself when it may be one, else its SHA-256 —
     * of its UTF-16 units when it holds half a surrogate pair, which UTF-8 would turn into '?' (two
     * such keys one id: SQS would drop the second event as a duplicate of the first).
     */
    static String of(String value) {
        if (valid(value)) {
            return value;
        }
        return hashed(value);
    }

    /**
     * A deduplication id: the value itself when SQS takes it (a SHA-256 digest used as a key goes as it is), else
     * {@value #HASHED} and its hash — and so is a value that begins so. A bare hash was another key's id: a key spelled
     * like the hash of "order 42" was that event's id, and SQS dropped the second while answering success.
     */
    static String dedupId(String value) {
        return valid(value) && !value.startsWith(HASHED) ? value : HASHED + hashed(value);
    }

    private static String hashed(String value) {
        if (!LedgerKeys.wellFormed(value)) {
            return LedgerKeys.bounded(value); // "u:" and the units' SHA-256
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
