package dev.ferry.domain.model;

import java.time.Duration;

/** Durations written as a configuration file writes them ({@code 30s}, {@code 1m30s}, {@code 250ms}), not {@code PT30S}. */
public final class Durations {

    private Durations() {
    }

    /**
     * {@code d} in nanoseconds, saturated at {@link Long#MAX_VALUE} (about 292 years) or
     * {@link Long#MIN_VALUE} instead of throwing: a setting of centuries means "for ever", not a crash.
     */
    public static long nanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException beyond) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /** {@code d} in milliseconds, saturated as {@link #nanos} is. */
    public static long millis(Duration d) {
        try {
            return d.toMillis();
        } catch (ArithmeticException beyond) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /**
     * {@code d} in whole seconds, rounded up, saturated at {@link Long#MAX_VALUE}: "for ever"
     * ({@code ChronoUnit.FOREVER}, whose seconds are already the most a long holds) stays for ever rather
     * than wrapping to the most negative number — a visibility, a {@code Retry-After} of none at all.
     */
    public static long ceilSeconds(Duration d) {
        long seconds = d.getSeconds();
        return d.getNano() == 0 || seconds == Long.MAX_VALUE ? seconds : seconds + 1;
    }

    /**
     * {@code epochMillis} plus {@code d}, saturated as {@link #millis} is: a TTL of "for ever"
     * ({@code ChronoUnit.FOREVER}) ends at the end of time rather than throwing or wrapping into the past.
     */
    public static long plusMillis(long epochMillis, Duration d) {
        long add = millis(d);
        long sum = epochMillis + add;
        if (((epochMillis ^ sum) & (add ^ sum)) < 0) {
            return add < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return sum;
    }

    /** {@code 14d}, {@code 2h5m}, {@code 1m30s}, {@code 30s}, {@code 1.5s}, {@code 250ms}, {@code 0s}; negative ones with a {@code -}. */
    public static String text(Duration d) {
        if (d == null) {
            return "null";
        }
        if (d.isNegative()) {
            return "-" + text(d.negated());
        }
        if (d.isZero()) {
            return "0s";
        }
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            long micros = d.toNanos() / 1_000;
            return micros % 1_000 == 0 ? micros / 1_000 + "ms" : d.toNanos() % 1_000 == 0 ? micros + "us" : d.toNanos() + "ns";
        }
        if (d.compareTo(Duration.ofMinutes(1)) < 0 && d.toMillisPart() != 0) {
            return String.format(java.util.Locale.ROOT, "%.3f", d.toMillis() / 1000.0).replaceAll("0+$", "") + "s";
        }
        var sb = new StringBuilder();
        append(sb, d.toDaysPart(), "d");
        append(sb, d.toHoursPart(), "h");
        append(sb, d.toMinutesPart(), "m");
        append(sb, d.toSecondsPart(), "s");
        return sb.toString();
    }

    private static void append(StringBuilder sb, long amount, String unit) {
        if (amount != 0) {
            sb.append(amount).append(unit);
        }
    }

    private static final java.util.regex.Pattern PART = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final java.util.regex.Pattern PARTS = java.util.regex.Pattern.compile("(\\d+(ms|s|m|h|d))+");
    private static final java.util.List<String> UNITS = java.util.List.of("d", "h", "m", "s", "ms");
    /** Longer than any duration of five units, each once: not one. */
    private static final int MOST_CHARS = 200;

    /**
     * A duration as settings write it: {@code 30s}, {@code 1m30s}, {@code 1h5m}, {@code 7d}, {@code 500ms} (units largest
     * first, each once) or ISO-8601 ({@code PT1M30S}), surrounding blanks ignored; null when it is none of these, is
     * negative, or is too large to count. One reading for the app's configuration and a plugin's test settings alike.
     */
    public static Duration parse(String text) {
        if (text == null) {
            return null;
        }
        String v = text.trim();
        if (v.isEmpty()) {
            return null;
        }
        if (v.charAt(0) == 'P' || v.charAt(0) == 'p') {
            try {
                var d = Duration.parse(v.toUpperCase(java.util.Locale.ROOT));
                return d.isNegative() ? null : d;
            } catch (java.time.format.DateTimeParseException e) {
                return null;
            }
        }
        if (v.length() > MOST_CHARS || !PARTS.matcher(v).matches()) {
            return null; // matched, "1s" ten thousand times over overflowed the regex engine's stack: an Error, not "invalid"
        }
        var m = PART.matcher(v);
        var total = Duration.ZERO;
        String lastUnit = null;
        try {
            while (m.find()) {
                long n = Long.parseLong(m.group(1));
                String unit = m.group(2);
                if (lastUnit != null && UNITS.indexOf(unit) <= UNITS.indexOf(lastUnit)) {
                    return null; // 30s1m, 5m5m: units largest first, each once
                }
                lastUnit = unit;
                total = total.plus(switch (unit) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                });
            }
        } catch (ArithmeticException | NumberFormatException tooBig) {
            return null;
        }
        return total;
    }
}
