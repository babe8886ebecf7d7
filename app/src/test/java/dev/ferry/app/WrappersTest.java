package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.tracing.TracedSink;
import dev.ferry.app.tracing.TracedSource;
import dev.ferry.domain.transport.Sink;
import dev.ferry.domain.transport.Source;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The app wraps every source and sink (tracing, metrics). A wrapper that does not pass a port's
 * default method on answers the default instead of the adapter: a Kafka source wrapped without
 * {@code redeliversAfterLease} was taken for one that hands late copies out again, and its late
 * records were dropped unsettled (the partition stopped for good).
 */
class WrappersTest {

    private static List<String> notPassedOn(Class<?> port, Class<?> wrapper) {
        return Arrays.stream(port.getMethods()).filter(Method::isDefault).filter(m -> {
            try {
                return wrapper.getDeclaredMethod(m.getName(), m.getParameterTypes()).getDeclaringClass() != wrapper;
            } catch (NoSuchMethodException e) {
                return true;
            }
        }).map(Method::getName).toList();
    }

    @Test
    void everyWrapperOfASource_passesOnEveryDefaultMethodOfThePort() {
        assertThat(notPassedOn(Source.class, TracedSource.class)).isEmpty();
    }

    @Test
    void everyWrapperOfASink_passesOnEveryDefaultMethodOfThePort() {
        assertThat(notPassedOn(Sink.class, TracedSink.class)).isEmpty();
        assertThat(notPassedOn(Sink.class, MeteredSink.class)).isEmpty();
    }

    @Test
    void aSinkThatThrowsOrAnswersNothing_isCountedAsARetry_notLeftOutOfTheMetrics() {
        // it recorded nothing: a sink failing every publish looked idle on the console and in ferry_sink_publish_seconds
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        Sink failing = new Sink() {
            @Override
            public String name() {
                return "failing";
            }

            @Override
            public dev.ferry.domain.handle.Outcome publish(dev.ferry.domain.model.Event event) {
                if (calls.getAndIncrement() == 0) {
                    throw new NoClassDefFoundError("com/example/Missing");
                }
                return null;
            }
        };
        var metered = new MeteredSink("failing", failing, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        var event = new dev.ferry.domain.model.Event("k", "t", null, null, new byte[0], java.util.Map.of());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> metered.publish(event)).isInstanceOf(NoClassDefFoundError.class);
        assertThat(metered.publish(event)).isNull();
        assertThat(metered.snapshot()).containsEntry("retry", 2L);
    }

    @Test
    void twoPluginSinksNamingThemselvesAlike_areCountedApart_underTheNamesTheConfigurationGivesThem() {
        // both were tagged sink="webhook": one timer for two sinks, the console showing each the other's publishes
        var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        Sink plugin = new Sink() {
            @Override
            public String name() {
                return "webhook";
            }

            @Override
            public dev.ferry.domain.handle.Outcome publish(dev.ferry.domain.model.Event event) {
                return dev.ferry.domain.handle.Outcome.done();
            }
        };
        var alerts = new MeteredSink("alerts", plugin, registry);
        var audit = new MeteredSink("audit", plugin, registry);
        var event = new dev.ferry.domain.model.Event("k", "t", null, null, new byte[0], java.util.Map.of());

        alerts.publish(event);
        alerts.publish(event);
        audit.publish(event);

        assertThat(alerts.snapshot()).containsEntry("done", 2L);
        assertThat(audit.snapshot()).containsEntry("done", 1L);
        assertThat(audit.name()).isEqualTo("audit");
        assertThat(registry.get("ferry.sink.publish").tag("sink", "alerts").tag("outcome", "done").timer().count())
                .isEqualTo(2);
    }

    @Test
    void aTimerThatThrowsWhenItRecords_loseTheCount_neverTheSinksAnswer() {
        // thrown out of the finally, a write the sink confirmed became a retry to the router, and the event was written again
        var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry() {
            @Override
            protected io.micrometer.core.instrument.Timer newTimer(io.micrometer.core.instrument.Meter.Id id,
                    io.micrometer.core.instrument.distribution.DistributionStatisticConfig config,
                    io.micrometer.core.instrument.distribution.pause.PauseDetector pauseDetector) {
                return (io.micrometer.core.instrument.Timer) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                        new Class<?>[] {io.micrometer.core.instrument.Timer.class}, (proxy, method, args) -> {
                            if (method.getName().equals("record")) {
                                throw new OutOfMemoryError("injected: while the publish is timed");
                            }
                            if (method.getName().equals("getId")) {
                                return id;
                            }
                            var type = method.getReturnType();
                            return type == long.class ? 0L : type == double.class ? 0.0 : type == boolean.class ? false
                                    : type == int.class ? 0 : null;
                        });
            }
        };
        var writes = new java.util.concurrent.atomic.AtomicInteger();
        Sink sink = new Sink() {
            @Override
            public String name() {
                return "webhook";
            }

            @Override
            public dev.ferry.domain.handle.Outcome publish(dev.ferry.domain.model.Event event) {
                writes.incrementAndGet();
                return dev.ferry.domain.handle.Outcome.done();
            }
        };
        var metered = new MeteredSink("webhook", sink, registry);
        var event = new dev.ferry.domain.model.Event("k", "t", null, null, new byte[0], java.util.Map.of());

        assertThat(metered.publish(event)).isInstanceOf(dev.ferry.domain.handle.Outcome.Done.class);
        assertThat(writes).hasValue(1);
    }
}
