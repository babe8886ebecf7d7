package dev.ferry.app.config;

import dev.ferry.app.logging.FerryLogging;
import dev.ferry.app.tracing.TracingSetup;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The app's own small sections of the configuration file ({@code logging}, {@code tracing},
 * {@code stats-every}) and its duration syntax, read for {@link ConfigReader}.
 */
final class AppSections {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Pattern COMPOUND_DURATION = Pattern.compile("(\\d+(ms|s|m|h|d))+");
    private static final List<String> UNITS = List.of("d", "h", "m", "s", "ms");

    private AppSections() {
    }

    /** {@code 30s}, {@code 1m30s}, {@code 1h5m}, {@code 7d}, {@code 500ms} or ISO-8601 ({@code PT1M30S}); null when none. */
    static Duration parseDuration(String text) {
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
        if (!COMPOUND_DURATION.matcher(v).matches()) {
            return null;
        }
        Matcher m = DURATION.matcher(v);
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

    /** Whether the jar carries ElasticMQ (ferry.jar does; ferry-slim.jar does not). */
    static boolean embeddedServerAvailable() {
        try {
            Class.forName("org.elasticmq.rest.sqs.SQSRestServerBuilder", false, ConfigReader.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** {@code stats-every}: a duration of at least 1s, or {@code off} (also {@code 0s}) for no stats lines. */
    static Duration statsEvery(Section root) {
        String v = root.string("stats-every", null);
        if (v != null && (v.trim().equalsIgnoreCase("off") || v.trim().equals("0") || v.trim().equals("0s"))) {
            return Duration.ZERO;
        }
        var every = root.duration("stats-every", Duration.ofMinutes(1));
        if (every.compareTo(Duration.ofSeconds(1)) < 0) {
            root.error("stats-every", "must be at least 1s, or off; was " + v);
            return Duration.ofMinutes(1);
        }
        return every;
    }

    static TracingSetup.Settings tracing(Section root) {
        var section = root.sectionOrEmpty("tracing");
        section.only("otlp-endpoint", "service-name", "sample-ratio");
        URI endpoint = null;
        String url = section.string("otlp-endpoint", null);
        if (url != null && !url.isBlank()) {
            try {
                endpoint = URI.create(url);
                if (endpoint.getHost() == null || !(url.startsWith("http://") || url.startsWith("https://"))) {
                    throw new IllegalArgumentException("no http(s) scheme or host");
                }
            } catch (IllegalArgumentException e) {
                section.error("otlp-endpoint", "not an http(s) URL such as http://127.0.0.1:4318: '" + url + "'");
                endpoint = null;
            }
        }
        double ratio = 1.0;
        String r = section.string("sample-ratio", "1.0");
        try {
            ratio = Double.parseDouble(r);
            if (!(ratio >= 0 && ratio <= 1)) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            section.error("sample-ratio", "must be a number from 0 to 1 (the share of new traces recorded), was '" + r + "'");
            ratio = 1.0;
        }
        return new TracingSetup.Settings(endpoint, section.string("service-name", "ferry"), ratio);
    }

    static FerryLogging.Settings logging(Section root) {
        var section = root.sectionOrEmpty("logging");
        section.only("level", "format", "levels");
        String level = section.oneOf("level", "info", FerryLogging.LEVELS);
        String format = section.oneOf("format", "text", FerryLogging.FORMATS);
        var levels = new LinkedHashMap<String, String>();
        section.map("levels").forEach((name, value) -> {
            String lower = value.toLowerCase(java.util.Locale.ROOT);
            if (FerryLogging.LEVELS.contains(lower)) {
                levels.put(name, lower);
            } else {
                section.error("levels", name + ": '" + value + "' is not one of " + new java.util.TreeSet<>(FerryLogging.LEVELS));
            }
        });
        return new FerryLogging.Settings(level == null ? "info" : level, format == null ? "text" : format, levels);
    }
}
