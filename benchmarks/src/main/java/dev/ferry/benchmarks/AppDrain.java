package dev.ferry.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsQueues;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The packaged app against a bare SDK loop doing the same work, each as a process of its own on one
 * warmed SQS server (ElasticMQ in a third JVM, 127.0.0.1): receive from {@code in}, send each
 * message to {@code out}, delete it from {@code in}. Ferry is {@code ferry.jar run} with one-event
 * MTurk documents (each with its own EventDocId, so the ledger lets every one through, on 1,000 HITs), one route to
 * an SQS sink on {@code out}, 4 pollers, and the ledger under test; the bare loop is 4 threads each
 * doing ReceiveMessage(10), SendMessageBatch, DeleteMessageBatch.
 *
 * <p>A second bare loop, {@code bare-attributes} (named among the ledgers to run it), does what
 * Ferry's route does on top: it asks for the messages' attributes as Ferry's source does, reads each
 * MTurk document (Jackson) and sends its eight fields on as message attributes, as Ferry's SQS sink
 * sends an event's attributes. It is there to show what that work costs a hand-written loop; the
 * ratios are still to {@code bare}.
 *
 * <p>Both are timed the same way, from outside: this program asks the server for {@code in}'s
 * counts every 5 ms; the clock starts when the first message was received (visible below the
 * number sent) and stops when none is left, visible or in flight: every delete answered. Start-up
 * is not timed (it is measured on its own). After each drain {@code out} must hold every message.
 * Rounds alternate who goes first.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.ferry.benchmarks.AppDrain [rounds] [messages] [ferry.jar] [ledgers]</pre>
 * e.g. {@code AppDrain 3 40000 app/target/ferry.jar memory,mvstore}.
 */
public final class AppDrain {

    private static final int POLLERS = 4;
    private static final int POLL_WAIT_MS = 1_000;
    private static final int WARM_UP_DRAINS = 4;
    private static final int HITS = 1_000;

    /** Extra listener settings for every Ferry contender, e.g. {@code -Dferry.bench.listener="concurrency: 64"}. */
    private static final String EXTRA_LISTENER = System.getProperty("ferry.bench.listener", "").isBlank() ? ""
            : "  " + System.getProperty("ferry.bench.listener") + "\n";

    private AppDrain() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int messages = args.length > 1 ? Integer.parseInt(args[1]) : 40_000;
        var jar = Path.of(args.length > 2 ? args[2] : "app/target/ferry.jar").toAbsolutePath();
        var ledgers = List.of((args.length > 3 ? args[3] : "memory,mvstore").split(","));
        var work = Files.createTempDirectory("ferry-app-drain");
        try (var server = SqsServer.start();
             var client = SqsClients.builder().endpoint(server.endpoint()).staticCredentials("x", "x").build()) {
            var queues = SqsQueues.of(client);
            String in = queues.create(SqsQueues.QueueSpec.withDeadLetterQueue("in", 1000)).url();
            String out = queues.create(SqsQueues.QueueSpec.withDeadLetterQueue("out", 1000)).url();
            var bench = new Bench(client, server.endpoint().toString(), in, out, messages, work);
            var contenders = new ArrayList<String>();
            contenders.add("bare");
            ledgers.forEach(l -> contenders.add(l.startsWith("bare") ? l : "ferry-" + l));
            System.out.println("warm-up: the server by " + WARM_UP_DRAINS + " bare drains, then each contender once, not counted");
            for (int i = 0; i < WARM_UP_DRAINS; i++) {
                bench.drain("bare", jar);
            }
            for (var c : contenders) {
                bench.drain(c, jar);
            }
            var rates = new LinkedHashMap<String, List<Double>>();
            for (int r = 1; r <= rounds; r++) {
                var order = new ArrayList<>(contenders);
                if (r % 2 == 0) {
                    java.util.Collections.reverse(order);
                }
                var line = new StringBuilder("round " + r + ":");
                for (var c : order) {
                    double rate = bench.drain(c, jar);
                    rates.computeIfAbsent(c, k -> new ArrayList<>()).add(rate);
                    line.append(String.format(Locale.ROOT, "  %s %,.0f", c, rate));
                }
                System.out.println(line + " msg/s");
            }
            report(rates, rounds, messages);
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Median of each contender, and the median of its per-round ratios to the bare loop. */
    private static void report(Map<String, List<Double>> rates, int rounds, int messages) {
        var bare = rates.get("bare");
        System.out.printf(Locale.ROOT, "medians over %d rounds of %,d messages:%n", rounds, messages);
        for (var e : rates.entrySet()) {
            var ratios = new ArrayList<Double>();
            for (int i = 0; i < e.getValue().size(); i++) {
                ratios.add(e.getValue().get(i) / bare.get(i));
            }
            System.out.printf(Locale.ROOT, "  %-16s %,8.0f msg/s   ratio to bare %.2f%n", e.getKey(),
                    median(e.getValue()), median(ratios));
        }
    }

    private static double median(List<Double> values) {
        var sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        return sorted.get(sorted.size() / 2);
    }

    /** One queue pair and the way every contender is filled for, started, timed and stopped. */
    private record Bench(SqsClient client, String endpoint, String in, String out, int messages, Path work) {

        double drain(String contender, Path jar) throws Exception {
            client.purgeQueue(b -> b.queueUrl(out));
            awaitEmpty(out);
            fill();
            var process = start(contender, jar);
            try {
                double rate = time();
                int arrived = count(out);
                if (arrived < messages) {
                    throw new IllegalStateException(contender + " drained 'in' but 'out' holds " + arrived + " of "
                            + messages);
                }
                return rate;
            } finally {
                process.destroy(); // SIGTERM: Ferry stops gracefully, the bare loop just ends
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
                // a long poll the stopped process left open on the server would take the next fill's
                // first messages and hide them for the visibility timeout: let every one expire
                TimeUnit.MILLISECONDS.sleep(POLL_WAIT_MS + 1_500);
            }
        }

        private Process start(String contender, Path jar) throws IOException {
            var java = ProcessHandle.current().info().command().orElse("java");
            var log = work.resolve(contender + ".log").toFile();
            ProcessBuilder pb;
            if (contender.startsWith("bare")) {
                pb = new ProcessBuilder(java, "-Xms512m", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                        Bare.class.getName(), endpoint, in, out, Integer.toString(POLLERS),
                        Boolean.toString(contender.equals("bare-attributes")));
            } else {
                var config = work.resolve(contender + ".yaml");
                Files.writeString(config, config(contender.substring("ferry-".length())));
                var command = new ArrayList<>(List.of(java, "-Xms512m", "-Xmx1g"));
                var extra = System.getProperty("ferry.bench.jvm", "");
                if (!extra.isBlank()) {
                    command.addAll(List.of(extra.trim().split("\\s+"))); // e.g. a flight recording of Ferry's side
                }
                command.addAll(List.of("-jar", jar.toString(), "run", "--config", config.toString()));
                pb = new ProcessBuilder(command);
            }
            return pb.redirectErrorStream(true).redirectOutput(log).start();
        }

        private String config(String ledger) throws IOException {
            var db = work.resolve("ledger-" + System.nanoTime() + ".db");
            String ledgerBlock = switch (ledger) {
                case "memory" -> "  kind: memory\n";
                case "mvstore" -> "  kind: mvstore\n  path: " + db + "\n";
                default -> throw new IllegalArgumentException("unknown ledger " + ledger);
            };
            return "aws:\n  region: us-east-1\n  endpoint: " + endpoint + "\n"
                    + "ledger:\n" + ledgerBlock
                    + "sources:\n  in:\n    sqs: {queue: in, max-wait: " + POLL_WAIT_MS / 1000 + "s}\n    format: mturk\n"
                    + "sinks:\n  out:\n    type: sqs\n    queue: out\n"
                    + "routes:\n  - name: all\n    to: [out]\n"
                    + "listener:\n  pollers: " + POLLERS + "\n" + EXTRA_LISTENER
                    + "stats-every: 1h\n";
        }

        /** Seconds from the first receive to the last delete, as the server counts them; messages per second. */
        private double time() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            long start = 0;
            while (System.nanoTime() < deadline) {
                var counts = counts(in);
                long now = System.nanoTime();
                if (start == 0 && counts[0] < messages) {
                    start = now;
                }
                if (Boolean.getBoolean("ferry.bench.trace") && (now / 500_000_000L) != ((now - 5_000_000L) / 500_000_000L)) {
                    System.out.println("  in: visible " + counts[0] + " in flight " + counts[1]);
                }
                if (start != 0 && counts[0] == 0 && counts[1] == 0) {
                    return messages / ((now - start) / 1e9);
                }
                TimeUnit.MILLISECONDS.sleep(5);
            }
            throw new IllegalStateException("'in' not drained in 300 s: " + java.util.Arrays.toString(counts(in)));
        }

        private void fill() {
            var sent = new AtomicInteger();
            try (var pool = Executors.newFixedThreadPool(8)) {
                for (int t = 0; t < 8; t++) {
                    pool.execute(() -> {
                        int from;
                        while ((from = sent.getAndAdd(10)) < messages) {
                            var entries = new ArrayList<SendMessageBatchRequestEntry>(10);
                            for (int i = 0; i < 10; i++) {
                                entries.add(SendMessageBatchRequestEntry.builder().id(Integer.toString(i))
                                        .messageBody(document(from + i)).build());
                            }
                            client.sendMessageBatch(b -> b.queueUrl(in).entries(entries));
                        }
                    });
                }
            }
        }

        /**
         * A one-event MTurk document with its own EventDocId (so its own idempotency key), on one of
         * {@value #HITS} HITs: Ferry keeps each HIT's events in order (its group key), so with one
         * HIT it would handle every message in turn, by design.
         */
        private static String document(int n) {
            return "{\"EventDocVersion\":\"2014-08-15\",\"EventDocId\":\"doc-" + System.nanoTime() + "-" + n
                    + "\",\"CustomerId\":\"A1CUSTOMEREXAMPLE\",\"Events\":[{\"EventType\":\"AssignmentSubmitted\","
                    + "\"EventTimestamp\":\"2026-11-22T10:00:00Z\",\"HITTypeId\":\"3AKE04YHPBXGMNS5R3EB1EXAMPLE\","
                    + "\"HITId\":\"HIT" + (n % HITS) + "\",\"AssignmentId\":\"3TEM0PF1Q5W8Q00000EXAMPLE\"}]}";
        }

        private void awaitEmpty(String queue) throws InterruptedException {
            for (int i = 0; i < 600 && count(queue) > 0; i++) {
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }

        private int count(String queue) {
            var c = counts(queue);
            return c[0] + c[1];
        }

        /** Visible and in-flight messages of {@code queue}. */
        private int[] counts(String queue) {
            var attributes = client.getQueueAttributes(b -> b.queueUrl(queue).attributeNames(
                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
            return new int[] {
                    Integer.parseInt(attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)),
                    Integer.parseInt(attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))};
        }
    }

    /** The MTurk fields Ferry's decoder makes an event's attributes, and its sink sends on. */
    private static final List<String> DOCUMENT_FIELDS = List.of("EventDocId", "EventDocVersion", "CustomerId");
    private static final List<String> EVENT_FIELDS = List.of("EventType", "EventTimestamp", "HITTypeId", "HITId", "AssignmentId");

    /**
     * The bare loop as a process: {@code endpoint in out pollers [attributes]}; runs until it is
     * stopped. With {@code attributes} true it also reads each document and sends its fields on.
     */
    public static final class Bare {

        private Bare() {
        }

        public static void main(String[] args) throws InterruptedException {
            var client = SqsClients.builder().endpoint(java.net.URI.create(args[0])).staticCredentials("x", "x").build();
            String in = args[1];
            String out = args[2];
            int pollers = Integer.parseInt(args[3]);
            boolean attributes = args.length > 4 && Boolean.parseBoolean(args[4]);
            var json = new ObjectMapper();
            var threads = new ArrayList<Thread>();
            for (int p = 0; p < pollers; p++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    while (true) {
                        var received = client.receiveMessage(b -> {
                            b.queueUrl(in).maxNumberOfMessages(10).waitTimeSeconds(POLL_WAIT_MS / 1000).visibilityTimeout(60);
                            if (attributes) {
                                b.messageSystemAttributeNames(MessageSystemAttributeName.ALL)
                                        .messageAttributeNames("All");
                            }
                        }).messages();
                        if (received.isEmpty()) {
                            continue;
                        }
                        var sends = new ArrayList<SendMessageBatchRequestEntry>(received.size());
                        var deletes = new ArrayList<DeleteMessageBatchRequestEntry>(received.size());
                        for (int i = 0; i < received.size(); i++) {
                            var m = received.get(i);
                            var send = SendMessageBatchRequestEntry.builder().id(Integer.toString(i)).messageBody(m.body());
                            if (attributes) {
                                send.messageAttributes(fields(json, m.body()));
                            }
                            sends.add(send.build());
                            deletes.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
                                    .receiptHandle(m.receiptHandle()).build());
                        }
                        client.sendMessageBatch(b -> b.queueUrl(out).entries(sends));
                        client.deleteMessageBatch(b -> b.queueUrl(in).entries(deletes));
                    }
                }));
            }
            for (var t : threads) {
                t.join();
            }
        }

        /** A document's fields as string message attributes (none when it is not one). */
        private static Map<String, MessageAttributeValue> fields(
                ObjectMapper json, String body) {
            var attributes = new HashMap<String, MessageAttributeValue>();
            try {
                var doc = json.readTree(body);
                var event = doc.path("Events").path(0);
                for (var f : DOCUMENT_FIELDS) {
                    put(attributes, f, doc.path(f).asText(null));
                }
                for (var f : EVENT_FIELDS) {
                    put(attributes, f, event.path(f).asText(null));
                }
            } catch (IOException e) {
                return Map.of();
            }
            return attributes;
        }

        private static void put(Map<String, MessageAttributeValue> into, String name,
                                String value) {
            if (value != null && !value.isEmpty()) {
                into.put(name, MessageAttributeValue.builder()
                        .dataType("String").stringValue(value).build());
            }
        }
    }
}
