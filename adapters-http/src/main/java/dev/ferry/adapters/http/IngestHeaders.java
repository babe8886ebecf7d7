package dev.ferry.adapters.http;

import com.sun.net.httpserver.Headers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/** What a request's headers alone refuse it for, before its body is read: a key or group too long, a bearer token. */
final class IngestHeaders {

    /** Headers every event of a request is keyed or grouped by, and their longest value. */
    private static final String[] BOUNDED_HEADERS = {"Idempotency-Key", "X-Ferry-Group"};
    static final int MAX_KEY_CHARS = 1024;

    /** A refusal: its status, its headers and why. */
    record Refusal(int status, Map<String, String> headers, String reason) {
    }

    private IngestHeaders() {
    }

    /** The refusal {@code headers} earn under {@code auth}, or null. */
    static Refusal check(Headers headers, IngestAuth auth) {
        for (String name : BOUNDED_HEADERS) {
            String value = headers.getFirst(name);
            if (value != null && value.length() > MAX_KEY_CHARS) {
                // each event's id and the ledger's keys are made of it: a 300 KB key times a thousand events is gigabytes
                return new Refusal(400, Map.of(), name + " of " + value.length() + " characters is over the limit of "
                        + MAX_KEY_CHARS);
            }
        }
        if (auth instanceof IngestAuth.Bearer bearer) {
            String header = headers.getFirst("Authorization");
            if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) { // the scheme in any case (RFC 9110)
                return new Refusal(401, Map.of("WWW-Authenticate", "Bearer"), "missing bearer token");
            }
            if (!MessageDigest.isEqual(header.substring(7).strip().getBytes(StandardCharsets.UTF_8),
                    bearer.token().getBytes(StandardCharsets.UTF_8))) {
                return new Refusal(403, Map.of(), "wrong bearer token");
            }
        }
        return null;
    }
}
