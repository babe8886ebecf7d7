package dev.ferry.adapters.http;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** The {@code Retry-After} header (RFC 9110 10.2.3): delay-seconds or an HTTP-date. */
final class RetryAfter {

    /** SQS cannot hide a message longer than this; a longer request is capped. */
    private static final Duration MAX = Duration.ofHours(12);

    private RetryAfter() {
    }

    /**
     * The least a {@code Retry-After} is taken as: {@code 0}, or a date just past (its seconds rounded
     * down, a server clock a little behind), would have the request sent again at once, over and over.
     */
    static final Duration MIN = Duration.ofSeconds(1);

    /** The delay the header asks for (at least {@link #MIN}), or {@code fallback} when it is absent or unreadable. */
    static Duration parse(String header, Clock clock, Duration fallback) {
        if (header == null || header.isBlank()) {
            return fallback;
        }
        String value = header.trim();
        try {
            long seconds = Long.parseLong(value);
            return seconds < 0 ? fallback : cap(Duration.ofSeconds(seconds));     // at least MIN: see cap
        } catch (NumberFormatException notSeconds) {
            try {
                var at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                var delay = Duration.between(clock.instant(), at);
                return cap(delay);
            } catch (DateTimeParseException notADate) {
                return fallback;
            }
        }
    }

    private static Duration cap(Duration d) {
        return d.compareTo(MAX) > 0 ? MAX : d.compareTo(MIN) < 0 ? MIN : d;
    }
}
