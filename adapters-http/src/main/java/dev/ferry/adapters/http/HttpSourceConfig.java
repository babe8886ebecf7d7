package dev.ferry.adapters.http;

import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.OpenedSource;
import dev.ferry.domain.spi.Plan;
import dev.ferry.domain.spi.Settings;
import java.time.Duration;
import java.util.Set;

/**
 * An {@code http:} source section: an ingest endpoint that takes events by POST.
 *
 * <pre>
 * http:
 *   listen: 127.0.0.1:8080
 *   path: /events
 *   auth: bearer                  # bearer, hmac or none - there is no default
 *   token: ${INGEST_TOKEN}        # auth: bearer
 *   secret: ${INGEST_SECRET}      # auth: hmac (X-Ferry-Timestamp + X-Ferry-Signature, see the README)
 *   signature-window: 5m          # auth: hmac - timestamps this far from the clock are refused
 *   max-body-bytes: 1048576
 *   capacity: 1000                # events held before requests get 429
 *   read-timeout: 10s             # headers and body must arrive within it, else 408
 *   max-uploads: 1000             # requests whose body is being read at once, beyond it 503
 *   tls: {keystore: /config/ingest.p12, password: ${INGEST_TLS_PASSWORD}}   # HTTPS (PKCS12); off by default
 * </pre>
 */
public record HttpSourceConfig(String name, String host, int port, String path, IngestAuth auth, int maxBodyBytes,
                               int capacity, Duration readTimeout, int maxUploads, Duration signatureWindow,
                               java.nio.file.Path tlsKeystore, String tlsPassword)
        implements Plan<OpenedSource> {

    /** Without TLS, as before. */
    public HttpSourceConfig(String name, String host, int port, String path, IngestAuth auth, int maxBodyBytes,
                            int capacity, Duration readTimeout, int maxUploads, Duration signatureWindow) {
        this(name, host, port, path, auth, maxBodyBytes, capacity, readTimeout, maxUploads, signatureWindow, null, null);
    }

    public static HttpSourceConfig read(Settings s) {
        var listen = s.hostPort("listen", "127.0.0.1:8080");
        String host = listen.getHostString();
        int port = listen.getPort();
        String path = s.string("path", "/events");
        if (!path.startsWith("/")) {
            s.problem("path", "must start with /, was '" + path + "'");
        }
        String kind = s.oneOf("auth", null, Set.of("bearer", "hmac", "none"));
        String token = s.string("token", null);
        String secret = s.string("secret", null);
        IngestAuth auth = null;
        if ("bearer".equals(kind)) {
            if (token == null || token.isBlank()) {
                s.problem("token", "auth: bearer needs a token (token: ${INGEST_TOKEN})");
            } else {
                try { // a secret's trailing newline: no client can send it, and every request was answered 403
                    auth = IngestAuth.bearer(token);
                } catch (IllegalArgumentException e) {
                    s.problem("token", e.getMessage());
                }
            }
        } else if ("hmac".equals(kind)) {
            if (secret == null || secret.length() < 16) {
                s.problem("secret", "auth: hmac needs a secret of at least 16 characters (secret: ${INGEST_SECRET})");
            } else {
                auth = IngestAuth.hmacSha256(secret);
            }
        } else if ("none".equals(kind)) {
            auth = IngestAuth.none();
        }
        if (token != null && !"bearer".equals(kind)) {
            s.problem("token", "only used with auth: bearer");
        }
        if (secret != null && !"hmac".equals(kind)) {
            s.problem("secret", "only used with auth: hmac");
        }
        var readTimeout = s.duration("read-timeout", Duration.ofSeconds(10));
        if (readTimeout.compareTo(Duration.ofMillis(100)) < 0 || readTimeout.compareTo(Duration.ofMinutes(10)) > 0) {
            s.problem("read-timeout", "must be 100ms..10m, was " + readTimeout.toMillis() + " ms");
            readTimeout = Duration.ofSeconds(10);
        }
        var signatureWindow = s.duration("signature-window", Duration.ofMinutes(5));
        if (signatureWindow.compareTo(Duration.ofSeconds(1)) < 0 || signatureWindow.compareTo(Duration.ofHours(24)) > 0) {
            s.problem("signature-window", "must be 1s..24h, was " + signatureWindow.toMillis() + " ms");
            signatureWindow = Duration.ofMinutes(5);
        }
        java.nio.file.Path keystore = null;
        String password = null;
        var tls = s.map("tls");
        if (!tls.isEmpty()) {
            for (var key : tls.keySet()) {
                if (!key.equals("keystore") && !key.equals("password")) {
                    s.problem("tls", "unknown key '" + key + "'; expected keystore and password");
                }
            }
            if (tls.get("keystore") == null) {
                s.problem("tls", "needs keystore: the path of a PKCS12 file with the key and certificate");
            } else {
                keystore = java.nio.file.Path.of(tls.get("keystore"));
                if (!java.nio.file.Files.isReadable(keystore)) {
                    s.problem("tls", "keystore " + keystore + " cannot be read");
                }
            }
            password = tls.getOrDefault("password", "");
        }
        return new HttpSourceConfig(s.name(), host, port, path, auth, s.integer("max-body-bytes", 1 << 20, 1024, 64 << 20),
                s.integer("capacity", 1000, 1, 1_000_000), readTimeout, s.integer("max-uploads", 1000, 1, 100_000),
                signatureWindow, keystore, password);
    }

    /** The password stays out of logs and {@code ferry config print}. */
    @Override
    public String toString() {
        return "HttpSourceConfig[" + name + " on " + host + ":" + port + path + (tlsKeystore != null ? ", TLS" : "") + "]";
    }

    @Override
    public OpenedSource open(AdapterContext context) {
        var builder = HttpSource.builder().name(name).bind(host, port).path(path).auth(auth)
                .maxBodyBytes(maxBodyBytes).capacity(capacity).readTimeout(readTimeout).maxUploads(maxUploads)
                .signatureWindow(signatureWindow);
        if (tlsKeystore != null) {
            builder.tls(tlsKeystore, tlsPassword.toCharArray());
        }
        var source = builder.build().start();
        return OpenedSource.of(source, source.uri().toString());
    }
}
