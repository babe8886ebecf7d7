package dev.ferry.domain.spi;

import java.net.URI;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the running app gives the adapters it opens: the shared settings of the file and a place
 * for clients that several sources and sinks share.
 */
public interface AdapterContext {

    /** The configured AWS region (AWS-based adapters only). */
    String awsRegion();

    /** An endpoint to use instead of AWS's own (the embedded SQS server, ElasticMQ, LocalStack). */
    Optional<URI> awsEndpoint();

    /**
     * True when the endpoint is a local server that takes any credentials: adapters then use fixed
     * ones instead of the default credential chain (which would look for an AWS account).
     */
    boolean localCredentials();

    /** True when adapters should create the queues, topics or tables they name (the embedded default). */
    boolean provision();

    /**
     * True when the queues live only as long as this run (the embedded server of a local run): what a
     * source holds at close is gone with them, so nothing is worth waiting for then.
     */
    default boolean queuesEndWithRun() {
        return false;
    }

    /**
     * True when what is opened must be there already: a command that reads or changes a ledger (an
     * event's history, a parked group's release) must not make an empty one — at a path relative to
     * where it was run — and report that nothing is known.
     */
    default boolean existingOnly() {
        return false;
    }

    /**
     * True when what is opened is only made, not worked on ({@code ferry ledger create-table}): a provisioning role may
     * be allowed to create a table and not to read its items, which a run needs.
     */
    default boolean provisionOnly() {
        return false;
    }

    /**
     * How long a part opened for a run waits for a dependency it cannot reach yet (a network or a proxy not up, a service
     * restarting, credentials not there yet), asking again, before its open fails — and the run's start with it. Zero
     * (the default, and a command's) fails at once. A refusal that waiting does not mend (what is named does not exist,
     * access denied) fails at once whatever this says.
     */
    default java.time.Duration dependencyPatience() {
        return java.time.Duration.ZERO;
    }

    /** True once a stop was asked for: a part waiting for a dependency ({@link #dependencyPatience()}) gives up then. */
    default boolean stopping() {
        return false;
    }

    /** How many receives a message gets before it is dead-lettered (the listener's setting). */
    int maxReceives();

    /**
     * Pollers of every source in the run together (0 when not known): a client shared by them holds a
     * connection per poll under way, and must keep room beside them for acknowledgements and lease
     * extensions.
     */
    default int pollersInRun() {
        return 0;
    }

    /**
     * One object per key for the whole run (e.g. one SQS client for every SQS source and sink),
     * created on first use; closed when the run stops if it is {@link AutoCloseable}.
     */
    <T> T shared(String key, Class<T> type, Supplier<T> create);
}
