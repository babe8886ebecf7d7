package dev.ferry.app;

import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.Plan;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/** What one run gives the adapters it opens; closes the shared clients at the end. */
final class RunContext implements AdapterContext, AutoCloseable {

    private final FerryConfig config;
    private final boolean provision;
    private final Map<String, Object> shared = new LinkedHashMap<>();
    private String region;

    private boolean existingOnly;
    private boolean provisionOnly;

    RunContext(FerryConfig config, boolean provision) {
        this.config = config;
        this.provision = provision;
    }

    /** How long a run's parts wait for a dependency not reachable yet at its start: see {@link #dependencyPatience}. */
    static final java.time.Duration RUN_PATIENCE = java.time.Duration.ofMinutes(1);

    private java.time.Duration patience = java.time.Duration.ZERO;
    private java.util.function.BooleanSupplier stopping = () -> false;

    /** For a run: its parts wait {@link #RUN_PATIENCE} for a dependency not reachable yet, unless a stop is asked for. */
    RunContext forRun(java.util.function.BooleanSupplier stopRequested) {
        this.patience = RUN_PATIENCE;
        this.stopping = stopRequested;
        return this;
    }

    @Override
    public java.time.Duration dependencyPatience() {
        return patience;
    }

    @Override
    public boolean stopping() {
        return stopping.getAsBoolean();
    }

    /** For a command that works on what exists: see {@link AdapterContext#existingOnly}. */
    RunContext forExistingOnly() {
        this.existingOnly = true;
        return this;
    }

    @Override
    public boolean existingOnly() {
        return existingOnly;
    }

    /** For a command that only makes what the configuration names: see {@link AdapterContext#provisionOnly}. */
    RunContext forProvisionOnly() {
        this.provisionOnly = true;
        return this;
    }

    @Override
    public boolean provisionOnly() {
        return provisionOnly;
    }

    @Override
    public synchronized String awsRegion() {
        if (region == null) {
            region = config.aws().region() != null ? config.aws().region() : defaultRegion();
        }
        return region;
    }

    /**
     * The AWS SDK's default chain (the aws.region property, AWS_REGION, the profile, the instance's
     * metadata); for a server on this machine, or when the chain finds none, us-east-1.
     */
    private String defaultRegion() {
        if (localCredentials()) {
            return System.getenv().getOrDefault("AWS_REGION", "us-east-1");
        }
        try {
            return software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain.builder().build().getRegion().id();
        } catch (RuntimeException none) {
            org.slf4j.LoggerFactory.getLogger(RunContext.class).warn("no AWS region set (aws.region in the file, AWS_REGION, "
                    + "or the profile) and none found: using us-east-1");
            return "us-east-1";
        }
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
    public int pollersInRun() {
        return config.listener().pollers() * config.sources().size();
    }

    @Override
    public boolean queuesEndWithRun() {
        return config.embeddedSqsPort() > 0;
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

    /**
     * Opens one part of the run, naming it in what goes wrong: "could not start: Connection refused" said
     * nothing of which of five sources, which sink or the ledger it was; a plan that opens to nothing is an
     * error here, not a NullPointerException later.
     */
    <T> T open(String part, Plan<T> plan) {
        T opened;
        try {
            opened = Objects.requireNonNull(plan, "no plan").open(this);
        } catch (Throwable e) {
            // any Error a plugin throws names its part too: an AssertionError, a StackOverflowError or a
            // ServiceConfigurationError said "could not start: java.lang.AssertionError", of no part (and an exception
            // thrown unchecked by a plugin, an IOException, passed the start's clean-up). An Error's type is its news
            // (NoClassDefFoundError: a plugin's dependency missing; its message is a class); a plugin's text may throw
            throw new IllegalStateException(part + " could not open: "
                    + (e instanceof Error ? Thrown.describe(e) : Thrown.message(e)), e);
        }
        if (opened == null) {
            throw new IllegalStateException(part + " could not open: its adapter opened it to nothing (null)");
        }
        return opened;
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
                } catch (Throwable e) { // an Error too: the others are still closed
                    org.slf4j.LoggerFactory.getLogger(RunContext.class).warn("closing {} failed: {}", o.getClass().getSimpleName(),
                            Thrown.describe(e)); // one that cannot print threw out of here, the others left open
                }
            }
        }
    }
}
