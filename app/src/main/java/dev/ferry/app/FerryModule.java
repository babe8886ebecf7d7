package dev.ferry.app;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.Multibinds;
import dagger.multibindings.StringKey;
import dev.ferry.adapters.mvstore.MvStoreLedger;
import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsSink;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.InMemoryLedger;
import jakarta.inject.Singleton;
import java.util.Map;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Builds the app's parts from the configuration. Sink types are a multibinding keyed by type name,
 * so another module adds a type by contributing {@code @IntoMap @StringKey("...")} a SinkFactory.
 */
@Module
abstract class FerryModule {

    @Multibinds
    abstract Map<String, SinkFactory> sinkFactories();

    @Provides
    @Singleton
    static SqsClient sqsClient(FerryConfig config) {
        return newSqsClient(config);
    }

    /** A client on the config's AWS settings; the CLI's queue commands use it too. */
    static SqsClient newSqsClient(FerryConfig config) {
        var builder = SqsClients.builder().region(config.aws().region());
        if (config.aws().endpoint() != null) {
            builder.endpoint(config.aws().endpoint());
        }
        if (config.embeddedSqsPort() > 0) {
            // the embedded server takes any credentials; nothing needs an AWS account
            builder.staticCredentials("local", "local");
        }
        return builder.build();
    }

    @Provides
    @Singleton
    static IdempotencyLedger ledger(FerryConfig config) {
        return switch (config.ledger().kind()) {
            case "memory" -> InMemoryLedger.create();
            default -> MvStoreLedger.open(config.ledger().path());
        };
    }

    @Provides
    @IntoMap
    @StringKey("log")
    static SinkFactory logSinks() {
        return spec -> new LogSink(spec.name(), System.out);
    }

    @Provides
    @IntoMap
    @StringKey("sqs")
    static SinkFactory sqsSinks(SqsClient client) {
        return spec -> SqsSink.builder(client, spec.options().get("queue")).name(spec.name()).build();
    }
}
