package dev.ferry.app;

import dagger.BindsInstance;
import dagger.Subcomponent;
import dev.ferry.app.config.FerryConfig;

/** One run of one validated configuration. */
@Subcomponent
public interface RunComponent {

    FerryRuntime runtime();

    @Subcomponent.Factory
    interface Factory {
        RunComponent create(@BindsInstance FerryConfig config);
    }
}
