package dev.ferry.adapters.dynamodb;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.StringKey;
import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.LedgerProvider;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;

/**
 * The DynamoDB ledger's contribution to the app, shared by every instance of a deployment:
 *
 * <pre>
 * ledger:
 *   kind: dynamodb
 *   table: ferry-ledger
 *   endpoint: http://127.0.0.1:8000   # optional: DynamoDB Local; the aws section's region and credentials apply
 *   create-table: false               # true: create the table (on-demand, with TTL) when it is missing
 *   timeout: 10s                      # the longest one ledger call may take, the SDK's retries included
 * </pre>
 *
 * <p>Each call is bounded (each attempt by half of {@code timeout}): without a bound, a connection
 * that stalls without an error holds the worker — and its ordering group — for the HTTP client's
 * read timeout on every attempt, minutes in all; bounded, the claim fails, and the engine holds the
 * message and tries again.
 */
@Module
public final class DynamoDbModule {

    private static final System.Logger LOG = System.getLogger(DynamoDbModule.class.getName());

    /** The longest one ledger call may take, retries included, unless the settings say otherwise. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private DynamoDbModule() {
    }

    /** {@code builder} with each call bounded by {@code timeout} and each attempt by half of it. */
    static DynamoDbClientBuilder bounded(DynamoDbClientBuilder builder, Duration timeout) {
        return builder.overrideConfiguration(c -> c.apiCallTimeout(timeout).apiCallAttemptTimeout(timeout.dividedBy(2)));
    }

    @Provides
    @IntoMap
    @StringKey("dynamodb")
    public static LedgerProvider dynamoDbLedger() {
        return settings -> {
            String table = settings.string("table", "ferry-ledger");
            if (!table.matches("[A-Za-z0-9_.-]{3,255}")) {
                settings.problem("table", "DynamoDB table names are 3-255 of [A-Za-z0-9_.-], was '" + table + "'");
            }
            String endpoint = settings.string("endpoint", null);
            if (endpoint != null && !endpoint.matches("https?://.+")) {
                settings.problem("endpoint", "not a URL: '" + endpoint + "'");
            }
            boolean create = settings.flag("create-table", false);
            var timeout = settings.duration("timeout", DEFAULT_TIMEOUT);
            if (timeout.compareTo(Duration.ofMillis(200)) < 0) {
                settings.problem("timeout", "must be at least 200ms, was " + timeout);
            }
            return context -> {
                var client = client(context, endpoint, timeout);
                return open(client, table, create || endpoint != null && context.provision(), context);
            };
        };
    }

    /** The run's ledger on {@code table}, {@link #prepare prepared}; a table it was to make and could not, made later. */
    static DynamoDbLedger open(DynamoDbClient client, String table, boolean create, AdapterContext context) {
        boolean owed = prepare(client, table, create, context);
        var ledger = DynamoDbLedger.of(client, table);
        if (owed) {
            // not createTable, which throws when TTL is not on: a run goes on without it, warned
            ledger.oweTable(() -> LedgerTables.create(client, table, DynamoDbLedger.Names.defaults()));
        }
        return ledger;
    }

    /**
     * The table before the ledger opens on it: made where the file ({@code create}: create-table, or a local run's DynamoDB
     * of its own endpoint) or the command says so, looked at either way. Not by a local run's provisioning alone: an
     * embedded SQS server's run against a table in AWS made (or joined, turning its TTL on) a table in the account its
     * credentials named — a production config tried locally shared the production table's keys. True when a table to make
     * could not be made, nor seen: the ledger makes it once DynamoDB answers.
     */
    static boolean prepare(DynamoDbClient client, String table, boolean create, AdapterContext context) {
        // a command reading what exists (events show, groups) makes no table: an empty one answered "never seen"
        RuntimeException notCreated = null;
        if ((create || context.provisionOnly()) && !context.existingOnly()) {
            var ttl = LedgerTables.Ttl.ON;
            try {
                ttl = LedgerTables.create(client, table, DynamoDbLedger.Names.defaults());
            } catch (RuntimeException e) {
                if (context.provisionOnly()) {
                    throw e; // ferry ledger create-table: what it is for failed
                }
                // a run: DynamoDB unreachable or slow a moment, credentials not there yet, CreateTable not allowed on a
                // table that exists — the start failed "cannot create" (with create-table: false it went on, warned);
                // the table is looked at as it is below, with the patience and the rules a run's start has
                LOG.log(System.Logger.Level.WARNING, "DynamoDB ledger table ''{0}'' could not be created or checked now "
                        + "({1}); looking at it as it is", table, e.getMessage());
                notCreated = e;
            }
            if (context.provisionOnly()) {
                // TTL not on the ledger's attribute: a run goes on, warned (it worked before without); not this
                // command, whose exit 0 a provisioning script took for a table whose items expire — they never did.
                // TTL that could be neither asked about nor turned on is only warned of (by LedgerTables): a role
                // without the TTL actions, on a table made with TTL on by another tool, failed every time
                if (!ttl.on() && ttl.known()) {
                    throw new dev.ferry.domain.model.FerryException("DynamoDB ledger table '" + table + "' exists, but "
                            + ttl.why() + ": nothing the ledger writes in it expires", ttl.refusal(), ttl.retryable());
                }
                return false; // only making it (ferry ledger create-table): a provisioning role may not read items, warned of
            }
        }
        // a table mistyped, keyed otherwise or not readable with these credentials fails the start, named; a run with
        // create-table: true too — it reads and writes items, and a denial warned of left it ready, then holding its first
        try {
            boolean seen = TableAtOpen.check(client, table, context.awsRegion());
            // made but its wait or its TTL failed (a blip), or not seen: owed, made whole by the first claim that can —
            // unless CreateTable is not allowed, on a table that is there (a second refusal drops it anyway)
            return notCreated != null && (!seen || !refused(notCreated));
        } catch (RuntimeException e) {
            if (notCreated == null) {
                throw e;
            }
            // "does not exist: set create-table: true" said of a run with it set hid why: the CreateTable's refusal
            var failed = new dev.ferry.domain.model.FerryException("DynamoDB ledger table '" + table + "' could not be created (create-table: "
                    + "true): " + notCreated.getMessage() + "; and then: " + e.getMessage(), notCreated, false);
            failed.addSuppressed(e);
            throw failed;
        }
    }

    /** Whether {@code e} is DynamoDB's refusal of the call to these credentials (no permission for it). */
    private static boolean refused(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof software.amazon.awssdk.awscore.exception.AwsServiceException ase && ase.awsErrorDetails() != null
                    && String.valueOf(ase.awsErrorDetails().errorCode()).contains("AccessDenied")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The ledger's client, with fixed credentials for a DynamoDB on this machine, or for any endpoint given where the
     * run's are local (a DynamoDB Local named in a compose file). Not for AWS itself where only the queues are local (an
     * embedded SQS server): its table was asked with fake ones, and the start failed "the security token is invalid".
     */
    static DynamoDbClient client(AdapterContext context, String endpoint, Duration timeout) {
        return context.shared("dynamodb-client:" + endpoint + ":" + timeout, DynamoDbClient.class, () -> {
            var builder = bounded(DynamoDbClient.builder(), timeout).region(Region.of(context.awsRegion()));
            if (endpoint != null) {
                builder.endpointOverride(java.net.URI.create(endpoint));
            }
            boolean local = endpoint != null && (endpoint.contains("127.0.0.1") || endpoint.contains("localhost"));
            // an endpoint named, the run's credentials local: a DynamoDB Local in a compose file. Not the run's aws
            // endpoint alone (an embedded SQS server sets it, LocalStack's): the ledger does not go there, but to AWS
            boolean runLocal = context.localCredentials() && endpoint != null;
            if (endpoint == null && context.awsEndpoint().isPresent()) {
                LOG.log(System.Logger.Level.WARNING, "the DynamoDB ledger has no endpoint of its own: it is a table in AWS "
                        + "({0}), with the credentials of the default chain, not at the run''s aws endpoint {1}; its event "
                        + "keys are shared with every run on that table. Set the ledger''s endpoint for a local one",
                        context.awsRegion(), context.awsEndpoint().get());
            }
            builder.credentialsProvider(local || runLocal
                    ? StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"))
                    : DefaultCredentialsProvider.builder().build());
            return builder.build();
        });
    }
}
