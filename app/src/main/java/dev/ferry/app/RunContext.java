package dev.ferry.app;

import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.spi.AdapterContext;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/** What one run gives the adapters it opens; closes the shared clients at the end. */
final class RunContext implements AdapterContext, AutoCloseable {

    private final FerryConfig config;
    private final boolean provision;
    private final Map<String, Object> shared = new LinkedHashMap<>();

    RunContext(FerryConfig config, boolean provision) {
        this.config = config;
        this.provision = provision;
    }

    @Override
    public String awsRegion() {
        return config.aws().region();
    }

    @Override
    public Optional<URI> awsEndpoint() {
        return Optional.ofNullable(config.aws().endpoint());
    }

    /** The embedded server, or any endpoint on this machine, takes any credentials. */
    @Override
    public boolean localCredentials() {
        var endpoint = config.aws().endpoint();
        return config.embeddedSqsPort() > 0 || endpoint != null
                && ("127.0.0.1".equals(endpoint.getHost()) || "localhost".equals(endpoint.getHost()));
    }

    @Override
    public boolean provision() {
        return provision;
    }

    @Override
    public int maxReceives() {
        return config.listener().maxReceives();
    }

    @Override
    public synchronized <T> T shared(String key, Class<T> type, Supplier<T> create) {
        var existing = shared.get(key);
        if (existing == null) {
            existing = create.get();
            shared.put(key, existing);
        }
        return type.cast(existing);
    }

    /** Closes the shared clients, newest first; returns what failed. */
    @Override
    public synchronized void close() {
        List<Object> all = new ArrayList<>(shared.values());
        shared.clear();
        for (var o : all.reversed()) {
            if (o instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    org.slf4j.LoggerFactory.getLogger(RunContext.class).warn("closing {} failed: {}", o.getClass().getSimpleName(),
                            e.getMessage());
                }
            }
        }
    }
}
