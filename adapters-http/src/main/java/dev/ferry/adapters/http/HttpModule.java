package dev.ferry.adapters.http;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.StringKey;
import dev.ferry.domain.spi.SinkProvider;
import dev.ferry.domain.spi.SourceProvider;

/**
 * The HTTP adapter's contributions to the app: the {@code http:} source (an ingest endpoint) and
 * the {@code type: http} sink. Their settings are {@link HttpSourceConfig} and {@link HttpSinkConfig}.
 */
@Module
public final class HttpModule {

    private HttpModule() {
    }

    @Provides
    @IntoMap
    @StringKey("http")
    public static SourceProvider httpSource() {
        return HttpSourceConfig::read;
    }

    @Provides
    @IntoMap
    @StringKey("http")
    public static SinkProvider httpSink() {
        return HttpSinkConfig::read;
    }
}
