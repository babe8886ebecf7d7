package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.http.ScriptedServer.Response;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the sink keeps of the events it sent once their answers came. */
class AnswerBodiesIT {

    private final ScriptedServer server = new ScriptedServer();
    private HttpSink sink;

    AnswerBodiesIT() throws java.io.IOException {
    }

    @AfterEach
    void close() {
        if (sink != null) {
            sink.close();
        }
        server.close();
    }

    @Test
    void payloadsAnswered2xx_areNotKeptForTheTimeout() throws Exception {
        // the task that gives up a 2xx's body after the timeout held its subscription, and through it the request and
        // its payload, for the whole timeout: at 1,000 events/s of 200 KB and a 10 s timeout, 2 GB kept for nothing
        int events = 20;
        server.script("/t", Response.of(200, "{\"ok\":true}")); // a body to drain: a 204's ended with its status line
        sink = HttpSink.builder(server.uri("/t").toString()).timeout(Duration.ofMinutes(5)).maxConcurrent(1).build();
        var payloads = sent(sink, events);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (held(payloads) > 2 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        // a few may stay: each of the JDK's pooled connections keeps the first request it carried (its connect timer's
        // exchange) while it lives — one per connection, not one per event (a 2xx is taken at its status line, so a
        // second connection may open while the first drains its body)
        assertThat(held(payloads)).as("payloads still reachable of %s sent, long before the 5-minute timeout", events)
                .isLessThanOrEqualTo(2);
    }

    private static List<WeakReference<byte[]>> sent(HttpSink sink, int events) {
        var refs = new ArrayList<WeakReference<byte[]>>();
        for (int i = 0; i < events; i++) {
            var payload = new byte[256 * 1024];
            assertThat(sink.publish(new Event("e" + i, "Test", null, null, payload, Map.of()))).isEqualTo(Outcome.done());
            refs.add(new WeakReference<>(payload));
        }
        return refs;
    }

    private static long held(List<WeakReference<byte[]>> payloads) {
        return payloads.stream().filter(r -> r.get() != null).count();
    }
}
