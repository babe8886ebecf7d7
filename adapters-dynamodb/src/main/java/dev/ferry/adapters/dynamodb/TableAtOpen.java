package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.model.Thrown;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;

/**
 * The ledger's table, looked at when the ledger opens. Without it a table name mistyped started a run
 * that stood ready while the queue was idle, then held its first message for ever, retried as an
 * outage. One read of the layout's item (a GetItem: a ledger's permissions stay GetItem and
 * UpdateItem, no DescribeTable). A table that does not exist, or is keyed otherwise, or credentials not found or not
 * taken, fail the open, naming it; any other
 * failure (DynamoDB slow or unreachable for a moment) is only logged: the ledger's own check before
 * its first claim decides then, as it does for an outage.
 */
final class TableAtOpen {

    private static final System.Logger LOG = System.getLogger(DynamoDbLedger.class.getName());

    private TableAtOpen() {
    }

    /** How long a table that is not there yet is waited for: one being created (not yet ACTIVE) answers as missing. */
    static volatile java.time.Duration patience = java.time.Duration.ofSeconds(20); // a test's, shorter

    /** True when the table was seen; false when it could not be asked (DynamoDB unreachable or slow a moment), warned. */
    static boolean check(DynamoDbClient client, String table, String region) {
        return check(client, table, region, DynamoDbLedger.Names.defaults().key());
    }

    /** As {@link #check(DynamoDbClient, String, String)}, for a ledger whose partition key is {@code key}. */
    static boolean check(DynamoDbClient client, String table, String region, String key) {
        return check(client, table, region, key, true);
    }

    /**
     * {@code denialFails}: false where the caller may not need to read items (making the table: a provisioning role holds
     * CreateTable and the TTL permissions, not GetItem), so a denial is warned of, not waited out and failed.
     */
    static boolean check(DynamoDbClient client, String table, String region, String key, boolean denialFails) {
        long end = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                client.getItem(b -> b.tableName(table)
                        .key(Map.of(key, AttributeValue.fromS(DynamoDbLayout.KEY))));
                return true;
            } catch (ResourceNotFoundException e) {
                if (System.nanoTime() - end >= 0) {
                    throw new FerryException("DynamoDB ledger table '" + table + "' does not exist" + (region == null ? ""
                            : " in " + region) + " (waited " + patience.toSeconds() + " s for it to become active): create "
                            + "it (ferry ledger create-table), or set create-table: true", e, false);
                }
                pause();
            } catch (software.amazon.awssdk.services.dynamodb.model.DynamoDbException e) {
                String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
                if (code != null && REFUSED_CREDENTIALS.contains(code)) {
                    if (askAgain(table, e, denialFails, end, () -> credentials(table, e, "refused, " + code))) {
                        continue;
                    }
                    return false;
                }
                if ("AccessDeniedException".equals(code)) {
                    // a role without the ledger's permissions: warned and started, it stood ready while idle, then held
                    // its first message for ever. A policy attached with the task takes effect within seconds: asked again
                    if (askAgain(table, e, denialFails, end, () -> new FerryException("DynamoDB ledger table '" + table
                            + "' may not be read with these credentials: " + e.getMessage() + "; the ledger needs "
                            + "dynamodb:GetItem and dynamodb:UpdateItem on it", e, false))) {
                        continue;
                    }
                    return false;
                }
                if (!"ValidationException".equals(code)) {
                    warn(table, e);
                    return false;
                }
                // a table keyed otherwise ("PK", "id", a sort key, a number): every claim would be refused the same way,
                // an outage to the engine — ready while idle, then its first message held for ever
                throw new FerryException("DynamoDB ledger table '" + table + "' is not keyed as the ledger reads it (a "
                        + "string partition key '" + key + "', no sort key): "
                        + e.getMessage() + "; name another table (ferry ledger create-table makes one keyed so), or remove "
                        + "this one first", e, false);
            } catch (software.amazon.awssdk.core.exception.SdkClientException e) {
                if (!noCredentials(e)) {
                    warn(table, e); // unreachable for a moment, slow: the first claim decides, as for an outage
                    return false;
                }
                if (!askAgain(table, e, denialFails, end, () -> credentials(table, e, "not found"))) {
                    return false;
                }
            } catch (RuntimeException e) {
                warn(table, e);
                return false;
            }
        }
    }

    /**
     * The codes DynamoDB answers credentials it does not take with (a key of another account or partition, a session
     * token expired, a request signed with a fake key): every call is refused the same way. Warned and started, a run stood
     * ready while idle, then held its first message for ever as a ledger outage.
     */
    private static final java.util.Set<String> REFUSED_CREDENTIALS = java.util.Set.of("UnrecognizedClientException",
            "InvalidSignatureException", "ExpiredTokenException", "MissingAuthenticationTokenException",
            "MissingAuthenticationToken", "InvalidClientTokenId", "IncompleteSignatureException", "IncompleteSignature");

    /** The SDK found no credentials at all (none in the environment, no profile, no instance role it could reach). */
    private static boolean noCredentials(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("Unable to load credentials")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Credentials or permissions refused: asked again for the patience (a role's credentials come from instance metadata
     * seconds after a container starts, a secret is mounted late, a policy takes effect), then the open fails with
     * {@code failure}. Where the caller may not need to read items (making the table), warned of. True: ask again;
     * false: warned, the open goes on.
     */
    private static boolean askAgain(String table, RuntimeException e, boolean denialFails, long end,
                                    java.util.function.Supplier<FerryException> failure) {
        if (!denialFails) {
            warn(table, e);
            return false;
        }
        if (System.nanoTime() - end < 0) {
            pause();
            return true;
        }
        throw failure.get();
    }

    /** The open's failure for credentials not found or refused ({@code what}), naming them. */
    private static FerryException credentials(String table, RuntimeException e, String what) {
        return new FerryException("DynamoDB ledger table '" + table + "' could not be read: its credentials were " + what
                + " (" + Thrown.describe(e) + "); give the run credentials for the ledger's account (environment, profile "
                + "or role; an endpoint on 127.0.0.1 or localhost is given fixed local ones)", e, false);
    }

    private static void warn(String table, RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "DynamoDB ledger table ''{0}'' could not be looked at as the ledger opened "
                + "({1}); it is again before the first claim", table, Thrown.describe(e));
    }

    private static void pause() {
        try {
            Thread.sleep(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FerryException("interrupted while waiting for the DynamoDB ledger table", e, false);
        }
    }
}
