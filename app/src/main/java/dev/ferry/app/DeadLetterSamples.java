package dev.ferry.app;

import dev.ferry.domain.listener.ListenerObserver;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.micrometer.FerryMetrics;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The console's view of dead letters since start: how many of each reason class (as the metrics
 * count them) and the latest few of each, with their message id and reason. Bounded: three samples
 * a class, reasons cut at 300 characters.
 */
final class DeadLetterSamples implements ListenerObserver {

    private static final int SAMPLES = 3;
    private static final int MAX_REASON = 300;

    record Sample(String source, String messageId, String group, Instant at, String reason) {
    }

    private final String source;
    private final Map<String, Long> counts;
    private final Map<String, ArrayDeque<Sample>> samples;

    private DeadLetterSamples(String source, Map<String, Long> counts, Map<String, ArrayDeque<Sample>> samples) {
        this.source = source;
        this.counts = counts;
        this.samples = samples;
    }

    /** One record of every source's dead letters; {@link #forSource} gives each listener its observer. */
    static DeadLetterSamples shared() {
        return new DeadLetterSamples(null, new TreeMap<>(), new TreeMap<>());
    }

    DeadLetterSamples forSource(String name) {
        return new DeadLetterSamples(name, counts, samples);
    }

    @Override
    public void settled(Delivery delivery, Disposition disposition) {
        if (!(disposition instanceof Disposition.DeadLetter dead)) {
            return;
        }
        String reasonClass = FerryMetrics.reasonClass(dead.reason());
        String reason = dead.reason().length() > MAX_REASON ? dead.reason().substring(0, MAX_REASON) + "…" : dead.reason();
        // a sender's id or key may be megabytes (a Kafka key): kept whole, each console tab pulled them every second
        var sample = new Sample(source, dev.ferry.app.logging.LogContext.cut(delivery.id()),
                dev.ferry.app.logging.LogContext.cut(delivery.groupKey()), Instant.now(), reason);
        synchronized (counts) {
            counts.merge(reasonClass, 1L, Long::sum);
            var latest = samples.computeIfAbsent(reasonClass, k -> new ArrayDeque<>());
            latest.addFirst(sample);
            while (latest.size() > SAMPLES) {
                latest.removeLast();
            }
        }
    }

    /** Each reason class with its count and latest samples, as the console's state carries them. */
    List<Map<String, Object>> json() {
        var out = new ArrayList<Map<String, Object>>();
        synchronized (counts) {
            counts.forEach((reasonClass, count) -> {
                var m = new LinkedHashMap<String, Object>();
                m.put("reason_class", reasonClass);
                m.put("count", count);
                m.put("samples", samples.getOrDefault(reasonClass, new ArrayDeque<>()).stream().map(s -> {
                    var j = new LinkedHashMap<String, Object>();
                    j.put("source", s.source());
                    j.put("message_id", s.messageId());
                    j.put("group", s.group());
                    j.put("at", s.at().toString());
                    j.put("reason", s.reason());
                    return (Object) j;
                }).toList());
                out.add(m);
            });
        }
        return out;
    }
}
