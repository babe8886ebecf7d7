package dev.ferry.adapters.http;

import static dev.ferry.adapters.http.IngestAnswers.error;

import com.sun.net.httpserver.HttpExchange;
import dev.ferry.adapters.http.IngestAnswers.Answer;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The HMAC checks of an {@link HttpSource} under {@code auth: hmac}: the signature and timestamp
 * headers before the body is read (their format, the time window), then the signature over the
 * whole request, and that it was not accepted before (signatures are remembered for their window,
 * a bounded number of them). Thread-safe.
 */
final class IngestSignatures {

    private final String path;
    private final Clock clock;
    private final Duration signatureWindow;
    private final SeenSignatures seen;

    IngestSignatures(String path, Clock clock, Duration signatureWindow, int maxRemembered) {
        this.path = path;
        this.clock = clock;
        this.signatureWindow = signatureWindow;
        this.seen = new SeenSignatures(maxRemembered);
    }

    /** Signatures remembered to refuse their replay. */
    int remembered() {
        return seen.size();
    }

    /** The signature headers of a request that passed the first checks (format, time window). */
    record Signed(String timestamp, long seconds, byte[] mac) {
    }

    private static final Pattern UNIX_SECONDS = Pattern.compile("[0-9]{1,12}");

    /** The signature and timestamp headers, checked before the body is read; refusals as IllegalArgumentException. */
    Signed headers(HttpExchange ex, IngestAuth.HmacSha256 hmac) {
        String signature = ex.getRequestHeaders().getFirst(hmac.header());
        String timestamp = ex.getRequestHeaders().getFirst(IngestAuth.HmacSha256.TIMESTAMP_HEADER);
        if (signature == null || !signature.startsWith("sha256=")) {
            throw new IllegalArgumentException("missing " + hmac.header() + ": sha256=<hex HMAC-SHA256 of the "
                    + IngestAuth.HmacSha256.TIMESTAMP_HEADER + ", method, path, Idempotency-Key and X-Ferry-Group, "
                    + "each followed by a newline, then the body>");
        }
        byte[] mac;
        try {
            mac = HexFormat.of().parseHex(signature.substring(7).strip());
        } catch (IllegalArgumentException e) {
            mac = new byte[0];
        }
        if (mac.length != 32) {
            throw new IllegalArgumentException(hmac.header() + " must be sha256= and 64 hex digits");
        }
        if (timestamp == null || !UNIX_SECONDS.matcher(timestamp).matches()) {
            throw new IllegalArgumentException("missing " + IngestAuth.HmacSha256.TIMESTAMP_HEADER
                    + ": <unix seconds>, the time the request was signed (it is part of the signature)");
        }
        long seconds = Long.parseLong(timestamp);
        long skew = Math.abs(clock.instant().getEpochSecond() - seconds);
        if (skew > signatureWindow.toSeconds()) {
            throw new IllegalArgumentException(IngestAuth.HmacSha256.TIMESTAMP_HEADER + " " + timestamp + " is " + skew
                    + " s away from the server's clock; signatures are accepted within " + signatureWindow.toSeconds()
                    + " s of it: sign each request when sending it");
        }
        return new Signed(timestamp, seconds, mac);
    }

    /**
     * Forgets a request's signature once it is refused with nothing taken (too many at once, back-pressure, a body that
     * does not parse): a client's retry of the same bytes, as its middleware sends after a 429, was answered 401
     * "replayed" — taken for a credential failure, and the event, never taken, dropped.
     */
    void forget(Signed signed) {
        if (signed != null && signed.mac().length >= 16) {
            seen.forget(signed.mac(), forgetAfter(signed));
        }
    }

    /**
     * More signed requests within the window than are remembered: asked to come back when a place frees, which is the
     * window away — "try again shortly", with {@code Retry-After: 1}, was hours of refusals with a 24 h window, readiness
     * up. Said to the operator too, at most once a minute.
     */
    private Answer full(long now) {
        long wait = Math.max(1, Math.min(IngestAnswers.MAX_RETRY_AFTER_SECONDS, seen.placeFreeAt(now) - now));
        String why = "too many signed requests within the signature window (" + signatureWindow.toSeconds() + " s) to "
                + "remember (" + seen.size() + "); a place frees in " + wait + " s: shorten signature-window (embedded: "
                + "or raise maxRememberedSignatures)";
        long at = System.nanoTime();
        if (at - lastFullWarned >= java.util.concurrent.TimeUnit.MINUTES.toNanos(1)) {
            lastFullWarned = at;
            System.getLogger(IngestSignatures.class.getName()).log(System.Logger.Level.WARNING, "ingest " + path + ": " + why
                    + " (said at most once a minute)");
        }
        return new Answer(429, Map.of("Retry-After", Long.toString(wait)), error(why));
    }

    private volatile long lastFullWarned = System.nanoTime() - java.util.concurrent.TimeUnit.MINUTES.toNanos(2);

    /** Until when a signature is remembered: the window past its time, and a second. */
    private long forgetAfter(Signed signed) {
        return signed.seconds() + signatureWindow.toSeconds() + 1;
    }

    /** Why the request is refused — its signature does not match it, or it is a replay — or null when it passes. */
    Answer refusal(HttpExchange ex, IngestAuth.HmacSha256 hmac, Signed signed, byte[] body) {
        byte[] expected = hmac.mac(signed.timestamp(), ex.getRequestMethod(), path,
                ex.getRequestHeaders().getFirst("Idempotency-Key"), ex.getRequestHeaders().getFirst("X-Ferry-Group"), body);
        if (!MessageDigest.isEqual(signed.mac(), expected)) {
            return new Answer(403, Map.of(), error("signature does not match the request ("
                    + IngestAuth.HmacSha256.TIMESTAMP_HEADER + ", method, path, Idempotency-Key, X-Ferry-Group and body)"));
        }
        long now = clock.instant().getEpochSecond();
        if (Math.abs(now - signed.seconds()) > signatureWindow.toSeconds()) {
            // its headers came within the window, its body after it: remembered now, past the first copy's memory, a
            // replay timed so and sent slowly was a first use
            return new Answer(401, Map.of(), error(IngestAuth.HmacSha256.TIMESTAMP_HEADER + " " + signed.timestamp()
                    + " is " + Math.abs(now - signed.seconds()) + " s away from the server's clock once the body was read; "
                    + "signatures are accepted within " + signatureWindow.toSeconds() + " s of it"));
        }
        return switch (seen.remember(expected, forgetAfter(signed), now)) {
            case REPLAYED -> new Answer(401, Map.of(), error("replayed: this signature was accepted before; sign each "
                    + "request, and each attempt of it, anew with a fresh " + IngestAuth.HmacSha256.TIMESTAMP_HEADER));
            case FULL -> full(now);
            case FIRST -> null;
        };
    }
}
