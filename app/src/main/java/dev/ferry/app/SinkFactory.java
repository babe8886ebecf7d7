package dev.ferry.app;

import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.transport.Sink;

/** Builds the sinks of one type ({@code sqs}, {@code log}, ...); contributed to a map keyed by type. */
public interface SinkFactory {

    Sink create(FerryConfig.SinkSpec spec);
}
