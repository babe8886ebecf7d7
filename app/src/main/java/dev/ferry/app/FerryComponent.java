package dev.ferry.app;

import dagger.BindsInstance;
import dagger.Component;
import dev.ferry.adapters.dynamodb.DynamoDbModule;
import dev.ferry.adapters.http.HttpModule;
import dev.ferry.adapters.kafka.KafkaModule;
import dev.ferry.adapters.mvstore.MvStoreModule;
import dev.ferry.adapters.sqs.SqsModule;
import jakarta.inject.Singleton;

/**
 * The app's object graph: every adapter module's sources, sinks and ledgers (multibindings keyed
 * by the name the configuration file uses), plus the plugins found beside the jar. A run of one
 * validated configuration is a {@link RunComponent} below it.
 */
@Singleton
@Component(modules = {FerryModule.class, SqsModule.class, KafkaModule.class, HttpModule.class, MvStoreModule.class,
        DynamoDbModule.class})
public interface FerryComponent {

    /** What the configuration file may name; reading the file needs it. */
    Adapters adapters();

    RunComponent.Factory run();

    @Component.Factory
    interface Factory {
        FerryComponent create(@BindsInstance Plugins plugins);
    }

    static FerryComponent create(Plugins plugins) {
        return DaggerFerryComponent.factory().create(plugins);
    }

    /** The built-in adapters and whatever is on the class path; no plugin folder. */
    static FerryComponent builtIn() {
        return create(Plugins.none());
    }
}
