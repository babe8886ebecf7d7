package dev.ferry.adapters.http;

import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.Plan;
import dev.ferry.domain.spi.Settings;
import dev.ferry.domain.transport.Sink;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A {@code type: http} sink section.
 *
 * <pre>
 * type: http
 * url: https://api.example.com/events/{type}   # {key}, {type}, {group} and {attr.NAME} are filled in
 * method: POST                                 # POST, PUT or PATCH
 * bearer-token-env: API_TOKEN                  # or bearer-token-file: /run/secrets/token (re-read when it changes)
 * headers: {X-Source: ferry}
 * timeout: 10s
 * max-concurrent: 64
 * throttle-default: 5m                         # a 429 without Retry-After puts the message back this long
 * on-auth-failure: retry                       # 401/403: retry with backoff (a rotated credential), or reject (to the DLQ)
 * outage-patience: 15m                         # unreachable, 502-504 (52x), 401/403: wait this long (Throttled) first
 * </pre>
 */
public record HttpSinkConfig(String name, String url, String method, String bearerTokenEnv, Path bearerTokenFile,
                             Map<String, String> headers, Duration timeout, int maxConcurrent, Duration throttleDefault,
                             HttpSink.AuthFailures onAuthFailure, Duration outagePatience)
        implements Plan<Sink> {

    /** A section without {@code outage-patience}: the default (kept for code written before the setting). */
    public HttpSinkConfig(String name, String url, String method, String bearerTokenEnv, Path bearerTokenFile,
                          Map<String, String> headers, Duration timeout, int maxConcurrent, Duration throttleDefault,
                          HttpSink.AuthFailures onAuthFailure) {
        this(name, url, method, bearerTokenEnv, bearerTokenFile, headers, timeout, maxConcurrent, throttleDefault,
                onAuthFailure, dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE);
    }

    public HttpSinkConfig {
        // the other fields may be null when read() found problems (the run does not start then); this one never is
        Objects.requireNonNull(onAuthFailure, "onAuthFailure");
    }

    public static HttpSinkConfig read(Settings s) {
        String url = s.required("url");
        if (url != null) {
            try {
                new UrlTemplate(url);
            } catch (IllegalArgumentException e) {
                s.problem("url", e.getMessage());
            }
        }
        String tokenEnv = s.string("bearer-token-env", null);
        String tokenFile = s.string("bearer-token-file", null);
        if (tokenEnv != null && tokenFile != null) {
            s.problem("bearer-token-file", "give either bearer-token-env or bearer-token-file, not both");
        }
        var throttle = s.duration("throttle-default", Duration.ofMinutes(5));
        if (throttle.toHours() > 12) {
            s.problem("throttle-default", "a message can be put back for at most 12h (SQS's limit), was " + throttle);
        }
        // what open() refuses is refused here, with the rest: it passed the check and the run failed only at its start
        var timeout = s.duration("timeout", Duration.ofSeconds(10));
        positive(s, "timeout", timeout);
        positive(s, "throttle-default", throttle);
        var headers = s.map("headers");
        headers.forEach((name, value) -> {
            String problem = SinkRequests.headerProblem(name, value);
            if (problem == null && (tokenEnv != null || tokenFile != null) && name.equalsIgnoreCase("Authorization")) {
                problem = "header 'Authorization' and a bearer token both given: the request would carry two; keep one";
            }
            if (problem != null) {
                s.problem("headers", problem);
            }
        });
        // #16: retry by default; a rotated credential must not dead-letter every event meanwhile
        var onAuthFailure = "reject".equals(s.oneOf("on-auth-failure", "retry", Set.of("retry", "reject")))
                ? HttpSink.AuthFailures.REJECT : HttpSink.AuthFailures.RETRY;
        return new HttpSinkConfig(s.name(), url, s.oneOf("method", "POST", Set.of("POST", "PUT", "PATCH")), tokenEnv,
                tokenFile == null ? null : Path.of(tokenFile), headers, timeout,
                s.integer("max-concurrent", 64, 1, 10_000), throttle, onAuthFailure,
                s.duration("outage-patience", dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE));
    }

    private static void positive(Settings s, String key, Duration value) {
        if (value.isNegative() || value.isZero()) {
            s.problem(key, "must be more than 0, was " + value);
        }
    }

    /**
     * Every attempt in process to its timeout, with the pauses and the wait for a connection slot. None without
     * patience: an interrupt then costs what the sink's own answer would.
     */
    @Override
    public Duration longestCall() {
        return outagePatience != null && outagePatience.isZero() ? Duration.ZERO
                : SinkRequests.longestCall(SinkRequests.SLOT_WAIT, SinkRequests.ATTEMPTS, timeout, SinkRequests.FIRST_PAUSE);
    }

    @Override
    public Sink open(AdapterContext context) {
        var builder = HttpSink.builder(url).name(name).method(method).timeout(timeout).maxConcurrent(maxConcurrent)
                .defaultThrottle(throttleDefault).onAuthFailure(onAuthFailure)
                .outagePatience(outagePatience == null ? dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE : outagePatience);
        if (bearerTokenEnv != null) {
            builder.bearerTokenFromEnv(bearerTokenEnv);
        }
        if (bearerTokenFile != null) {
            builder.bearerTokenFromFile(bearerTokenFile);
        }
        headers.forEach(builder::header);
        return builder.build();
    }
}
