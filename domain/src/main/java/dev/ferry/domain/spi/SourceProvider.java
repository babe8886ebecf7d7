package dev.ferry.domain.spi;

/** Reads the settings of one source transport ({@code sqs:}, {@code kafka:}, ...) into a plan. */
@FunctionalInterface
public interface SourceProvider {

    Plan<OpenedSource> configure(Settings settings);
}
