package dev.ferry.adapters.http;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How the ingest endpoint knows a request is allowed. There is no default: switching it off takes
 * {@link #none()}, said out loud in the configuration.
 */
public sealed interface IngestAuth {

    /**
     * {@code Authorization: Bearer <token>}. Whitespace and byte-order marks around the token (a secret file's
     * newline) are dropped — no client can send them; a character no header carries is refused.
     */
    record Bearer(String token) implements IngestAuth {
        public Bearer {
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("bearer token must not be empty");
            }
            token = BearerTokens.clean(token, "of the ingest endpoint");
        }

        @Override
        public String toString() {
            return "Bearer[***]";
        }
    }

    /**
     * A signed request: {@code X-Ferry-Timestamp: <unix seconds>} and a header (default
     * {@code X-Ferry-Signature}) of {@code sha256=<hex>}, the HMAC-SHA256 under the secret of
     * {@code timestamp \n method \n path \n Idempotency-Key \n X-Ferry-Group \n body} (an absent
     * header as the empty string). The endpoint takes a timestamp within its signature window
     * only, and each signature once: see {@link #sign}.
     */
    record HmacSha256(byte[] secret, String header) implements IngestAuth {

        /** The header with the time of signing, in unix seconds. */
        public static final String TIMESTAMP_HEADER = "X-Ferry-Timestamp";

        public HmacSha256 {
            if (secret == null || secret.length < 16) {
                throw new IllegalArgumentException("HMAC secret must be at least 16 bytes");
            }
            Objects.requireNonNull(header, "header");
        }

        /**
         * The value of the signature header for a request sent with {@code X-Ferry-Timestamp:
         * unixSeconds}: {@code sha256=} and the lower-case hex HMAC-SHA256 of the timestamp, the
         * method, the endpoint's path (no query), the {@code Idempotency-Key} and
         * {@code X-Ferry-Group} headers (null when not sent) and the body, the first five each
         * followed by a newline. Sign every attempt anew: the endpoint accepts a signature once.
         */
        public String sign(long unixSeconds, String method, String path, String idempotencyKey, String group,
                           byte[] body) {
            return "sha256=" + HexFormat.of().formatHex(mac(Long.toString(unixSeconds), method, path, idempotencyKey,
                    group, body));
        }

        /** The raw HMAC-SHA256 of a request, {@code timestamp} as the client sent it. */
        byte[] mac(String timestamp, String method, String path, String idempotencyKey, String group, byte[] body) {
            String head = timestamp + "\n" + method + "\n" + path + "\n" + (idempotencyKey == null ? "" : idempotencyKey)
                    + "\n" + (group == null ? "" : group) + "\n";
            try {
                var mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(secret, "HmacSHA256"));
                mac.update(head.getBytes(StandardCharsets.UTF_8));
                return mac.doFinal(body);
            } catch (NoSuchAlgorithmException | InvalidKeyException e) {
                throw new IllegalStateException("every JDK has HmacSHA256", e);
            }
        }

        @Override
        public String toString() {
            return "HmacSha256[" + header + "]";
        }
    }

    /** No authentication: anyone who reaches the port may post events. */
    record None() implements IngestAuth {
    }

    static IngestAuth bearer(String token) {
        return new Bearer(token);
    }

    static IngestAuth hmacSha256(String secret) {
        return new HmacSha256(secret.getBytes(StandardCharsets.UTF_8), "X-Ferry-Signature");
    }

    static IngestAuth none() {
        return new None();
    }
}
