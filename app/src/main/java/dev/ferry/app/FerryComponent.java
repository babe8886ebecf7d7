package dev.ferry.app;

import dagger.BindsInstance;
import dagger.Component;
import dev.ferry.app.config.FerryConfig;
import jakarta.inject.Singleton;

/** The app's object graph, built from one validated configuration. */
@Singleton
@Component(modules = FerryModule.class)
public interface FerryComponent {

    FerryRuntime runtime();

    @Component.Factory
    interface Factory {
        FerryComponent create(@BindsInstance FerryConfig config);
    }

    static FerryComponent of(FerryConfig config) {
        return DaggerFerryComponent.factory().create(config);
    }
}
