package dev.ferry.app.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.net.URI;
import java.time.Duration;

/**
 * The app's tracing from {@code tracing:}: with an {@code otlp-endpoint}, an OpenTelemetry SDK that
 * exports spans over OTLP/HTTP (protobuf) in batches; without one, whatever the OpenTelemetry
 * agent installed, or nothing (the trace context is still carried from sources to sinks).
 */
public final class TracingSetup implements AutoCloseable {

    /** The {@code tracing:} section; {@code otlpEndpoint} null when spans are not exported by Ferry. */
    public record Settings(URI otlpEndpoint, String serviceName, double sampleRatio) {
        public static final Settings NONE = new Settings(null, "ferry", 1.0);
    }

    private final Tracing tracing;
    private final SdkTracerProvider provider;

    private TracingSetup(Tracing tracing, SdkTracerProvider provider) {
        this.tracing = tracing;
        this.provider = provider;
    }

    public static TracingSetup start(Settings settings) {
        if (settings.otlpEndpoint() == null) {
            return new TracingSetup(Tracing.global(), null);
        }
        String endpoint = settings.otlpEndpoint().toString();
        var exporter = OtlpHttpSpanExporter.builder()
                .setEndpoint(endpoint.endsWith("/v1/traces") ? endpoint : endpoint.replaceAll("/+$", "") + "/v1/traces")
                .setTimeout(Duration.ofSeconds(10)).build();
        var provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"),
                        settings.serviceName()))))
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.sampleRatio())))
                // an exception's event carries its message and stack whole: a sender's megabyte key in a reason too. Room
                // for a stack and its causes (the root cause is at the end); 2,048 queued spans at most hold 64 MiB
                .setSpanLimits(io.opentelemetry.sdk.trace.SpanLimits.builder().setMaxAttributeValueLength(32 * 1024).build())
                .addSpanProcessor(BatchSpanProcessor.builder(exporter).build())
                .build();
        var sdk = OpenTelemetrySdk.builder().setTracerProvider(provider)
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
        return new TracingSetup(Tracing.on(sdk), provider);
    }

    public Tracing tracing() {
        return tracing;
    }

    /** Exports what is left and stops the exporter (bounded: 10 s). */
    @Override
    public void close() {
        if (provider != null) {
            provider.shutdown().join(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
