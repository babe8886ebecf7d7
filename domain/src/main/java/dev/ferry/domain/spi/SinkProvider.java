package dev.ferry.domain.spi;

import dev.ferry.domain.transport.Sink;

/** Reads the settings of one sink type ({@code type: sqs}) into a plan; no I/O until it is opened. */
@FunctionalInterface
public interface SinkProvider {

    Plan<Sink> configure(Settings settings);
}
