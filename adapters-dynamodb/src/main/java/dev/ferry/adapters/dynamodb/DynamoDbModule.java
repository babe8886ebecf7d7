package dev.ferry.adapters.dynamodb;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.StringKey;
import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.LedgerProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The DynamoDB ledger's contribution to the app, shared by every instance of a deployment:
 *
 * <pre>
 * ledger:
 *   kind: dynamodb
 *   table: ferry-ledger
 *   endpoint: http://127.0.0.1:8000   # optional: DynamoDB Local; the aws section's region and credentials apply
 *   create-table: false               # true: create the table (on-demand, with TTL) when it is missing
 * </pre>
 */
@Module
public final class DynamoDbModule {

    private DynamoDbModule() {
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
            return context -> {
                var client = client(context, endpoint);
                if (create || context.provision()) {
                    DynamoDbLedger.createTable(client, table, DynamoDbLedger.Names.defaults());
                }
                return DynamoDbLedger.of(client, table);
            };
        };
    }

    private static DynamoDbClient client(AdapterContext context, String endpoint) {
        return context.shared("dynamodb-client:" + endpoint, DynamoDbClient.class, () -> {
            var builder = DynamoDbClient.builder().region(Region.of(context.awsRegion()));
            if (endpoint != null) {
                builder.endpointOverride(java.net.URI.create(endpoint));
            }
            boolean local = endpoint != null && (endpoint.contains("127.0.0.1") || endpoint.contains("localhost"));
            builder.credentialsProvider(local || context.localCredentials()
                    ? StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"))
                    : DefaultCredentialsProvider.builder().build());
            return builder.build();
        });
    }
}
