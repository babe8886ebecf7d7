package dev.ferry.adapters.kafka;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.StringKey;
import dev.ferry.domain.spi.SinkProvider;
import dev.ferry.domain.spi.SourceProvider;

/**
 * The Kafka adapter's contributions to the app: the {@code kafka:} source and the
 * {@code type: kafka} sink. Their settings are {@link KafkaSourceConfig} and {@link KafkaSinkConfig}.
 */
@Module
public final class KafkaModule {

    private KafkaModule() {
    }

    @Provides
    @IntoMap
    @StringKey("kafka")
    public static SourceProvider kafkaSource() {
        return KafkaSourceConfig::read;
    }

    @Provides
    @IntoMap
    @StringKey("kafka")
    public static SinkProvider kafkaSink() {
        return KafkaSinkConfig::read;
    }
}
