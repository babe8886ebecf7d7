package dev.ferry.adapters.http;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * How the ingest endpoint knows a request is allowed. There is no default: switching it off takes
 * {@link #none()}, said out loud in the configuration.
 */
public sealed interface IngestAuth {

    /** {@code Authorization: Bearer <token>}. */
    record Bearer(String token) implements IngestAuth {
        public Bearer {
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("bearer token must not be empty");
            }
        }

        @Override
        public String toString() {
            return "Bearer[***]";
        }
    }

    /** A header (default {@code X-Ferry-Signature}) of {@code sha256=<hex HMAC-SHA256 of the body>}. */
    record HmacSha256(byte[] secret, String header) implements IngestAuth {
        public HmacSha256 {
            if (secret == null || secret.length < 16) {
                throw new IllegalArgumentException("HMAC secret must be at least 16 bytes");
            }
            Objects.requireNonNull(header, "header");
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
