package dev.ferry.app;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.Multibinds;
import dagger.multibindings.StringKey;
import dev.ferry.adapters.http.HttpSink;
import dev.ferry.adapters.kafka.KafkaSink;
import dev.ferry.adapters.mvstore.MvStoreLedger;
import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsSink;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.idempotency.InMemoryLedger;
import jakarta.inject.Singleton;
import java.time.Duration;
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
    @StringKey("http")
    static SinkFactory httpSinks() {
        return spec -> {
            var o = spec.options();
            var builder = HttpSink.builder(o.get("url")).name(spec.name()).method(o.get("method"))
                    .timeout(Duration.ofMillis(Long.parseLong(o.get("timeout"))))
                    .maxConcurrent(Integer.parseInt(o.get("max-concurrent")))
                    .defaultThrottle(Duration.ofMillis(Long.parseLong(o.get("throttle-default"))));
            if (o.containsKey("bearer-token-env")) {
                builder.bearerTokenFromEnv(o.get("bearer-token-env"));
            }
            return builder.build();
        };
    }

    @Provides
    @IntoMap
    @StringKey("kafka")
    static SinkFactory kafkaSinks() {
        return spec -> {
            var o = spec.options();
            var builder = KafkaSink.builder(o.get("bootstrap-servers"), o.get("topic")).name(spec.name());
            if (o.containsKey("value-from-attribute")) {
                builder.valueFromAttribute(o.get("value-from-attribute"));
            }
            return builder.build();
        };
    }

    @Provides
    @IntoMap
    @StringKey("sqs")
    static SinkFactory sqsSinks(SqsClient client) {
        return spec -> SqsSink.builder(client, spec.options().get("queue")).name(spec.name()).build();
    }
}
