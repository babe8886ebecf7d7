package dev.ferry.app.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logback's start-up configuration in the packaged app (found through {@code ServiceLoader}): text
 * lines at INFO on standard error, third-party noise at WARN, until {@code ferry run} applies the
 * configuration file's {@code logging:} section (on standard output). A {@code -Dlogback.configurationFile} of the user's is left to Logback.
 */
public final class DefaultLogging extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (FerryLogging.userConfigured()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        FerryLogging.configure(context, FerryLogging.Settings.DEFAULT, false); // ferry run moves them to stdout
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
