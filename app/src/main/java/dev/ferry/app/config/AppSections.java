package dev.ferry.app.config;

import dev.ferry.app.logging.FerryLogging;
import dev.ferry.app.tracing.TracingSetup;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The app's own sections of the configuration file ({@code aws}, {@code listener}, {@code metrics},
 * {@code admin}, {@code logging}, {@code tracing}, {@code stats-every}) and its duration syntax, read
 * for {@link ConfigReader}.
 */
final class AppSections {


    private AppSections() {
    }

    /** {@code 30s}, {@code 1m30s}, {@code 1h5m}, {@code 7d}, {@code 500ms} or ISO-8601 ({@code PT1M30S}); null when none. */
    static Duration parseDuration(String text) {
        return dev.ferry.domain.model.Durations.parse(text);
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

    /**
     * {@code aws}: region (the SDK's default chain when none) and endpoint (the embedded server's by default).
     * With {@code embedded-sqs} the endpoint can only be that server: the run says its queues are the embedded
     * server's, in memory and gone at stop, and gives the server's fixed credentials.
     */
    static FerryConfig.Aws aws(Section root, int embeddedPort) {
        var awsSection = root.sectionOrEmpty("aws");
        awsSection.only("region", "endpoint");
        String embedded = embeddedPort > 0 ? "http://127.0.0.1:" + embeddedPort : null;
        String endpoint = awsSection.string("endpoint", embedded);
        if (embedded != null && endpoint != null && endpoint.isBlank()) {
            // ${AWS_ENDPOINT_URL:-} with the variable unset means "no override": the "" replaced the embedded default,
            // and the run went to real AWS with the embedded server's fixed credentials
            endpoint = embedded;
        }
        URI endpointUri = null;
        if (endpoint != null && !endpoint.isBlank()) {
            try {
                endpointUri = URI.create(endpoint);
                if (endpointUri.getScheme() == null || endpointUri.getHost() == null) {
                    throw new IllegalArgumentException("no scheme or host");
                }
            } catch (IllegalArgumentException e) {
                awsSection.error("endpoint", "not a URL: '" + endpoint + "'");
            }
        }
        if (embeddedPort > 0 && endpointUri != null && !"127.0.0.1".equals(endpointUri.getHost())
                && !"localhost".equals(endpointUri.getHost())) {
            // the run's credentials are the embedded server's fixed ones: sent to AWS (refused, "security token invalid",
            // after the queues were asked for), or to a server elsewhere whose queues the run took for in-memory ones
            awsSection.error("endpoint", "with embedded-sqs the endpoint is the embedded server's (127.0.0.1); for an SQS "
                    + "server elsewhere, or AWS, leave embedded-sqs out, was '" + endpoint + "'");
        } else if (embeddedPort > 0 && endpointUri != null && portOf(endpointUri) != embeddedPort) {
            // another server on this machine (LocalStack on 4566): its queues were made and read while the run said they
            // were the embedded server's, gone at stop, and its long polls were abandoned at stop as the embedded one's
            awsSection.error("endpoint", "with embedded-sqs the endpoint is the embedded server's, port " + embeddedPort
                    + " (embedded-sqs.port), but '" + endpoint + "' is port " + portOf(endpointUri) + ", another server; "
                    + "leave aws.endpoint out, or for that server leave embedded-sqs out");
        }
        // no region: the AWS SDK's default chain (AWS_REGION, the profile, the instance) decides at run time
        String region = awsSection.string("region", null);
        return new FerryConfig.Aws(region == null || region.isBlank() ? null : region.trim(), endpointUri);
    }

    /** The port an endpoint is reached on: the one it names, else its scheme's (443 for https, 80 for http). */
    private static int portOf(URI endpoint) {
        return endpoint.getPort() >= 0 ? endpoint.getPort() : "https".equalsIgnoreCase(endpoint.getScheme()) ? 443 : 80;
    }

    /**
     * One event's routes may run this long before the call is interrupted (an attempt spent): a plugin sink
     * that hangs — a socket with no timeout, a lock never released — would hold its group for ever.
     */
    static final Duration DEFAULT_HANDLER_TIMEOUT = Duration.ofMinutes(15);

    /** {@code listener}: its settings, the lease and its extension checked against each other. */
    static FerryConfig.ListenerSpec listener(Section l) {
        l.only("pollers", "concurrency", "lease", "extend-every", "extend-leases", "max-receives", "max-attempts",
                "shutdown-deadline", "hold-limit", "max-in-flight", "handler-timeout");
        var lease = l.duration("lease", Duration.ofSeconds(30));
        if (lease.compareTo(Duration.ofSeconds(2)) < 0 || lease.compareTo(Duration.ofHours(12)) > 0) {
            l.error("lease", "must be 2s .. 12h (the visibility timeout Ferry asks for and extends), was " + lease);
        }
        var extendEvery = l.duration("extend-every", lease.dividedBy(2));
        if (extendEvery.compareTo(lease.minusSeconds(1)) > 0 || extendEvery.isZero()) {
            l.error("extend-every", "must be shorter than the lease by at least 1s, or a message's visibility runs out "
                    + "before it is extended (lease " + lease.toSeconds() + "s, extend-every " + extendEvery.toSeconds() + "s)");
        }
        return new FerryConfig.ListenerSpec(l.integer("pollers", 2, 1, 64), l.integer("concurrency", 64, 1, 1024),
                lease, extendEvery, l.flag("extend-leases", true), l.integer("max-receives", 5, 1, 1000),
                l.integer("max-attempts", 5, 1, 1000), l.duration("shutdown-deadline", Duration.ofSeconds(20)),
                l.duration("hold-limit", Duration.ofMinutes(5)), l.integer("max-in-flight", 0, 10, 100_000),
                l.duration("handler-timeout", DEFAULT_HANDLER_TIMEOUT));
    }

    /** {@code metrics}: where Prometheus scrapes, or null when the section is absent. */
    static FerryConfig.Address metrics(Section root) {
        var metricsSection = root.section("metrics");
        if (metricsSection == null) {
            return null;
        }
        metricsSection.only("listen");
        return address(metricsSection, "listen", "127.0.0.1:9464");
    }

    /**
     * {@code admin}: where health, the console and the admin API answer (where the metrics do by default,
     * or 127.0.0.1:9465; {@code FERRY_ADMIN_LISTEN} moves that default), its token, and when a listener
     * counts as stalled.
     */
    static FerryConfig.Admin admin(Section root, Function<String, String> env, FerryConfig.Address metrics) {
        var adminSection = root.sectionOrEmpty("admin");
        adminSection.only("listen", "stall-after", "token");
        String adminToken = adminSection.string("token", null);
        // a secret mounted from a file often ends with a newline, which no request can carry in a header
        adminToken = adminToken == null ? null : adminToken.strip();
        if (adminToken != null && adminToken.length() < 16) {
            adminSection.error("token", "an admin token lets whoever has it release parked groups: give it at least 16 "
                    + "characters (e.g. ${FERRY_ADMIN_TOKEN} from a secret)");
        } else if (adminToken != null && !adminToken.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
            // no client could send it (a header carries printable ASCII): every CLI command was told "not a Ferry admin
            // endpoint, is admin.listen right?", and the console could not release. Spaces inside pass, as they did
            adminSection.error("token", "an admin token is sent in a header: printable ASCII only (letters, digits, "
                    + "punctuation, spaces; no other characters)");
        }
        FerryConfig.Address adminAddress;
        // the container image sets FERRY_ADMIN_LISTEN=0.0.0.0:9465 for its probes
        String fromEnv = env.apply("FERRY_ADMIN_LISTEN");
        fromEnv = fromEnv == null || fromEnv.isBlank() ? null : fromEnv.strip();
        String listen = adminSection.string("listen", fromEnv);
        if ("off".equals(listen)) {
            adminAddress = null;
        } else if (listen != null && listen.equals(fromEnv) && !HOST_PORT.matcher(listen).matches()) {
            adminSection.error("listen", "FERRY_ADMIN_LISTEN must be HOST:PORT (such as 0.0.0.0:9465) or off, was '"
                    + listen + "'");
            adminAddress = null;
        } else {
            adminAddress = address(adminSection, "listen", fromEnv != null ? fromEnv
                    : metrics != null ? metrics.toString() : "127.0.0.1:9465");
        }
        var stallAfter = adminSection.duration("stall-after", LivenessBounds.DEFAULT_STALL_AFTER);
        if (stallAfter.compareTo(Duration.ofSeconds(10)) < 0) {
            adminSection.error("stall-after", "must be at least 10s (messages in hand with none settled for this long fail "
                    + "liveness, and the instance is restarted), was " + stallAfter.toSeconds() + "s");
        }
        return new FerryConfig.Admin(adminAddress, stallAfter, adminToken);
    }

    private static final Pattern HOST_PORT = Pattern.compile(
            ".+:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5]?[0-9]{1,4})");

    private static FerryConfig.Address address(Section s, String key, String fallback) {
        var address = s.hostPort(key, fallback);
        return new FerryConfig.Address(address.getHostString(), address.getPort());
    }
}
