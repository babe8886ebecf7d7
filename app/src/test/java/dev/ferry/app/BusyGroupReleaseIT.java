package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.domain.testing.Await;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry groups release} of a group whose producer keeps sending, on a real SQS FIFO queue (ElasticMQ): each pass
 * of a release ends with three empty long polls of the dead-letter queue, and every message the producer sent
 * meanwhile was parked behind the release's copies — no pass was ever quiet, the release gave up after its patience
 * and the group stayed parked for as long as the producer sent. Now what arrives once every parked message went back
 * and was handled goes on, and the release ends.
 */
class BusyGroupReleaseIT {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final List<String> delivered = new CopyOnWriteArrayList<>();
    private final AtomicBoolean poisoned = new AtomicBoolean(true);
    /** How long the sink takes to accept a request. */
    private volatile Duration sinkTakes = Duration.ZERO;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    /** Group A's producer once a test started one: {@link #withRuntime} stops it, and waits for it, however it ends. */
    private Thread producer;
    /** Whether {@link #producer} goes on sending. */
    private final AtomicBoolean producing = new AtomicBoolean(true);

    @Test
    void aGroupWhoseProducerNeverPauses_isReleased_andDeliveredInOrder(@TempDir Path dir) throws Exception {
        var sent = new AtomicInteger();
        withRuntime(dir, (sqs, env) -> {
            // more often than a pass's three empty long polls of a second take
            producer = producer(sqs, sent, 1_000, 300, producing);
            assertThat(Await.until(LIMIT, () -> sent.get() >= 8)).isTrue(); // a1 poisoned, the rest parked behind it
            assertThat(delivered).isEmpty();
            poisoned.set(false); // the cause is fixed

            out.reset();
            int exit = Ferry.run(new String[] {"groups", "release", "A"}, out, err, env::get);

            assertThat(exit).as(() -> out + " " + err).isZero();
            assertThat(out.toString()).containsPattern("group A of '[^']+' released"); // the source it chose said
            producing.set(false);
            producer.join(LIMIT.toMillis());
            int total = sent.get();
            assertThat(Await.until(LIMIT, () -> delivered.size() >= total))
                    .as(() -> "delivered " + delivered.size() + " of " + total).isTrue();
            assertThat(delivered).as("each once, in the producer's order").containsExactlyElementsOf(sentInOrder(total));
        });
    }

    @Test // a review: a message sent while a slow group's release copies were handled reached the listener among them after
          // the release had answered "released… it flows again" (exit 0), and was parked behind them: the group stayed
          // parked past the last copy, every later message behind it, and nothing released it again. The release now
          // watches its copies pass and moves such a message too (ReleaseWatchTest holds the sequence step by step)
    void aMessageSentAmongTheCopiesOfASlowGroup_isReleasedToo_andEverythingIsDeliveredInOrder(@TempDir Path dir)
            throws Exception {
        sinkTakes = Duration.ofMillis(500);
        int parked = 20;
        int sentDuring = 20;
        withRuntime(dir, (sqs, env) -> {
            for (int i = 1; i <= parked; i++) {
                ParkedGroupsIT.send(sqs, "A", "a" + i);
            }
            assertThat(Await.until(LIMIT, () -> sqs.depth("orders-dlq.fifo") == parked))
                    .as("a1 poisoned, the rest parked behind it").isTrue();
            assertThat(delivered).isEmpty();
            poisoned.set(false); // the cause is fixed

            // over the release's first pass: some reach the DLQ before it reads, some land among the copies it sends
            // back (reached by the listener seconds later, the sink slow), the rest after them
            producer = producer(sqs, new AtomicInteger(parked), parked + sentDuring, 75, producing);
            out.reset();
            int exit = Ferry.run(new String[] {"groups", "release", "A"}, out, err, env::get);

            assertThat(exit).as(() -> out + " " + err).isZero();
            assertThat(out.toString()).containsPattern("group A of '[^']+' released");
            producer.join(LIMIT.toMillis());
            int total = parked + sentDuring;
            assertThat(Await.until(LIMIT, () -> delivered.size() >= total))
                    .as(() -> "delivered " + delivered.size() + " of " + total + ": " + delivered).isTrue();
            assertThat(delivered).as("each once, in the producer's order").containsExactlyElementsOf(sentInOrder(total));
            assertThat(Await.until(LIMIT, () -> {
                out.reset();
                return Ferry.run(new String[] {"groups", "list"}, out, err, env::get) == 0
                        && out.toString().contains("no parked groups");
            })).as(() -> "unparked: " + out).isTrue();
            assertThat(sqs.depth("orders-dlq.fifo")).isZero();
        });
    }

    /** What a test does with a running Ferry: the SQS server it reads, and the CLI's environment naming its config. */
    @FunctionalInterface
    private interface Body {
        void run(LocalSqs sqs, Map<String, String> env) throws Exception;
    }

    /**
     * Runs {@code body} beside a Ferry parking group A's poisoned messages on a fresh SQS server, its queues made by
     * {@code ferry queues create}, sending to the {@link #api()}. What it started is stopped however {@code body} ends,
     * an assertion failing halfway too: the runtime, the SQS server, a producer still sending (else its join waits out
     * the limit), and the sink.
     */
    private void withRuntime(Path dir, Body body) throws Exception {
        var api = api();
        try (var sqs = new LocalSqs()) {
            var file = ParkedGroupsIT.config(sqs, dir, api.getAddress().getPort(), ParkedGroupsIT.freePort());
            Map<String, String> env = new HashMap<>(System.getenv());
            env.put("FERRY_CONFIG", file.toString());
            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, env::get)).as(err.toString()).isZero();
            try (var runtime = ParkedGroupsIT.runtime(file).start()) {
                body.run(sqs, env);
            }
        } finally {
            producing.set(false);
            if (producer != null) {
                producer.join(LIMIT.toMillis());
            }
            api.stop(0);
        }
    }

    /**
     * A producer of group A's messages {@code a<n>}, numbered on from {@code sent}, one each {@code pauseMillis}
     * while {@code producing} and until {@code upTo} were sent.
     */
    private static Thread producer(LocalSqs sqs, AtomicInteger sent, int upTo, long pauseMillis, AtomicBoolean producing) {
        return Thread.ofPlatform().daemon().start(() -> {
            while (producing.get() && sent.get() < upTo) {
                ParkedGroupsIT.send(sqs, "A", "a" + sent.incrementAndGet());
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** What the producer sent, in its order: a1 to a{@code total}. */
    private static List<String> sentInOrder(int total) {
        var sent = new ArrayList<String>();
        for (int i = 1; i <= total; i++) {
            sent.add("a" + i);
        }
        return sent;
    }

    /** The sink's endpoint: 400 for a1 while poisoned, else 204 after {@link #sinkTakes}, recording what it accepted. */
    private HttpServer api() throws Exception {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String id = body.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
            if (poisoned.get() && id.equals("a1")) {
                exchange.sendResponseHeaders(400, -1);
            } else {
                try {
                    Thread.sleep(sinkTakes.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                delivered.add(id);
                exchange.sendResponseHeaders(204, -1);
            }
            exchange.close();
        });
        server.start();
        return server;
    }
}
