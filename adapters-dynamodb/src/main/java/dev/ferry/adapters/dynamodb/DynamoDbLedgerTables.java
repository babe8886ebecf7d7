package dev.ferry.adapters.dynamodb;

import java.io.PrintStream;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Creates the ledger's table from the command line, with the same names the ledger uses:
 *
 * <pre>java -cp ferry.jar dev.ferry.adapters.dynamodb.DynamoDbLedgerTables create-table --table ferry-ledger \
 *     [--region eu-west-1] [--endpoint http://127.0.0.1:8000] [--key pk --ttl expiresAt ...]</pre>
 *
 * Credentials, and the region unless given, come from the default chain. Exit code 0 when the table exists afterwards, 2 for bad
 * arguments, 1 when DynamoDB refused, or when TTL is not on the expiry attribute afterwards (on another, or off and not
 * allowed to be turned on). TTL that could be neither asked about nor turned on is warned of, "not confirmed", exit 0:
 * it may well be on, and a role without the TTL actions failed every time. The packaged app's {@code ferry} CLI calls
 * the same code.
 */
public final class DynamoDbLedgerTables {

    private DynamoDbLedgerTables() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || !args[0].equals("create-table") || args.length % 2 == 0) {
            err.println("usage: create-table --table NAME [--region REGION] [--endpoint URL] "
                    + "[--key ATTR --state ATTR --token ATTR --leaseUntil ATTR --completedAt ATTR --ttl ATTR]");
            return 2;
        }
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                err.println("expected an option like --table, found '" + args[i] + "'");
                return 2;
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        String table = options.remove("table");
        if (table == null) {
            err.println("--table is required");
            return 2;
        }
        var d = DynamoDbLedger.Names.defaults();
        var names = new DynamoDbLedger.Names(options.getOrDefault("key", d.key()), options.getOrDefault("state", d.state()),
                options.getOrDefault("token", d.token()), options.getOrDefault("leaseUntil", d.leaseUntil()),
                options.getOrDefault("completedAt", d.completedAt()), options.getOrDefault("ttl", d.ttl()));
        String region = options.get("region") != null ? options.get("region") : defaultRegion(options.get("endpoint"));
        if (region == null) { // as the app: us-east-1, said
            err.println("no AWS region set (AWS_REGION, the aws.region property or the profile) and none found: using "
                    + "us-east-1 (give --region for another)");
            region = "us-east-1";
        }
        var builder = DynamoDbClient.builder().region(Region.of(region));
        if (options.containsKey("endpoint")) {
            builder.endpointOverride(URI.create(options.get("endpoint")));
        }
        for (var known : new String[] {"region", "endpoint", "key", "state", "token", "leaseUntil", "completedAt", "ttl"}) {
            options.remove(known);
        }
        if (!options.isEmpty()) {
            err.println("unknown option(s): " + options.keySet());
            return 2;
        }
        try (var client = builder.build()) {
            var ttl = LedgerTables.create(client, table, names);
            if (!ttl.on() && ttl.known()) { // said "TTL on" and 0 before: taken for done, and nothing expired
                err.println("table '" + table + "' is there in " + region + " (key '" + names.key() + "'), but "
                        + ttl.why() + ": nothing in it expires");
                return 1;
            }
            if (!ttl.on()) { // not known either way: 1 failed a role without the TTL actions, on a table with TTL on
                err.println("warning: table '" + table + "': " + ttl.why());
                out.println("table '" + table + "' is ready in " + region + " (key '" + names.key() + "'), its TTL "
                        + "for '" + names.ttl() + "' not confirmed");
                return 0;
            }
            out.println("table '" + table + "' is ready in " + region + " (key '" + names.key() + "', TTL on '" + names.ttl()
                    + "')");
            return 0;
        } catch (RuntimeException e) {
            err.println("could not create table '" + table + "' in " + region + ": " + e.getMessage());
            return 1;
        }
    }

    /**
     * The region the SDK's chain names, as the app takes it; for a DynamoDB on this machine the aws.region property or
     * AWS_REGION, else us-east-1 (nothing asked of instance metadata). Null when none is found (us-east-1 then, said, as
     * the app takes it). Always us-east-1 before, the chain unasked:
     * a table made there while the app, in its own region, failed its start "does not exist".
     */
    private static String defaultRegion(String endpoint) {
        if (endpoint != null && (endpoint.contains("127.0.0.1") || endpoint.contains("localhost")
                || endpoint.contains("[::1]"))) {
            String set = System.getProperty("aws.region", System.getenv("AWS_REGION"));
            return set == null || set.isBlank() ? "us-east-1" : set;
        }
        try {
            return software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain.builder().build().getRegion().id();
        } catch (RuntimeException none) {
            return null;
        }
    }
}
