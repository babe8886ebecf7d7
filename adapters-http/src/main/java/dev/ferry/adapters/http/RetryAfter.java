package dev.ferry.adapters.http;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;

/** The {@code Retry-After} header (RFC 9110 10.2.3): delay-seconds or an HTTP-date. */
final class RetryAfter {

    /** SQS cannot hide a message longer than this; a longer request is capped. */
    private static final Duration MAX = Duration.ofHours(12);

    private RetryAfter() {
    }

    /** RFC 850's date ({@code Sunday, 06-Nov-94 08:49:37 GMT}): a two-digit year read as 1970..2069. */
    private static final DateTimeFormatter RFC_850 = new DateTimeFormatterBuilder().appendPattern("EEEE, dd-MMM-")
            .appendValueReduced(java.time.temporal.ChronoField.YEAR, 2, 2, 1970).appendPattern(" HH:mm:ss 'GMT'")
            .toFormatter(java.util.Locale.US).withZone(java.time.ZoneOffset.UTC);
    /** C's asctime() ({@code Sun Nov  6 08:49:37 1994}). */
    private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy",
            java.util.Locale.US).withZone(java.time.ZoneOffset.UTC);

    /**
     * An HTTP-date in any of the three forms a recipient must read (RFC 9110 5.6.7): an endpoint's RFC 850 or asctime
     * date was the fallback (5 minutes) where it asked for 30 s.
     */
    static java.time.Instant httpDate(String value) {
        String text = value.trim();
        for (var form : java.util.List.of(DateTimeFormatter.RFC_1123_DATE_TIME, RFC_850, ASCTIME)) {
            try {
                return ZonedDateTime.parse(text, form).toInstant();
            } catch (DateTimeParseException notThisForm) {
                // the next
            }
        }
        throw new DateTimeParseException("not an HTTP-date", text, 0);
    }

    /**
     * The least a {@code Retry-After} is taken as: {@code 0}, or a date just past (its seconds rounded
     * down, a server clock a little behind), would have the request sent again at once, over and over.
     */
    static final Duration MIN = Duration.ofSeconds(1);

    /** The delay the header asks for (at least {@link #MIN}), or {@code fallback} when it is absent or unreadable. */
    static Duration parse(String header, Clock clock, Duration fallback) {
        return parse(header, null, clock, fallback);
    }

    /**
     * The delay the header asks for, a date in it counted from the answer's own {@code Date} header when it has a
     * readable one (RFC 9110: the two are the server's clock), else from {@code clock}: this host's clock an hour
     * behind the server's held each event an hour longer than asked (a clock ahead cut every wait to a second, the
     * endpoint asked again each second through its storm). A number too large to read is the longest wait, not
     * {@code fallback}.
     */
    static Duration parse(String header, String date, Clock clock, Duration fallback) {
        if (header == null || header.isBlank()) {
            return fallback;
        }
        String value = header.trim();
        try {
            long seconds = Long.parseLong(value);
            return seconds < 0 ? fallback : cap(Duration.ofSeconds(seconds));     // at least MIN: see cap
        } catch (NumberFormatException notSeconds) {
            if (value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return MAX; // delay-seconds past a long's range
            }
            try {
                var at = httpDate(value);
                return cap(Duration.between(serverNow(date, clock), at));
            } catch (DateTimeParseException notADate) {
                return fallback;
            }
        }
    }

    /** The answer's {@code Date}, or this host's time when it has none that reads. */
    private static java.time.Instant serverNow(String date, Clock clock) {
        if (date != null) {
            try {
                return httpDate(date);
            } catch (DateTimeParseException unreadable) {
                // this host's clock, as without one
            }
        }
        return clock.instant();
    }

    private static Duration cap(Duration d) {
        return d.compareTo(MAX) > 0 ? MAX : d.compareTo(MIN) < 0 ? MIN : d;
    }
}
