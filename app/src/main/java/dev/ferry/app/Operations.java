package dev.ferry.app;

import dev.ferry.adapters.http.HttpSourceConfig;
import dev.ferry.adapters.kafka.KafkaSourceConfig;
import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.FerryConfig;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;

/** The CLI's queue commands and {@code send-test-event}, on the AWS settings of a config file. */
final class Operations {

    private static final Map<String, String> HELP = Map.of(
            "queues create", """
                    ferry queues create --config FILE
                      Creates every SQS queue FILE names (sources and sqs sinks), each with a dead-letter queue
                      NAME-dlq (NAME-dlq.fifo for FIFO queues) and a redrive policy. Queues that exist are kept.""",
            "queues list-dlq-sources", """
                    ferry queues list-dlq-sources --config FILE --queue DLQ
                      Lists the URLs of the queues whose redrive policy sends to DLQ (a name, URL or ARN).""",
            "queues redrive", """
                    ferry queues redrive --config FILE --from DLQ --to QUEUE [--max N]
                      Moves up to N messages (all by default) from DLQ back to QUEUE: each is copied with its
                      attributes, the copy confirmed, then the original deleted. Exit 1 if any stayed behind.""",
            "ledger create-table", """
                    ferry ledger create-table --config FILE
                      Creates the DynamoDB table of FILE's ledger (kind: dynamodb), on-demand, with TTL on the
                      expiry attribute; a table that exists is kept.""",
            "send-test-event", """
                    ferry send-test-event --config FILE --source NAME
                      Puts a well-formed sample where source NAME reads (its SQS queue, its Kafka topic, or a POST
                      to its HTTP endpoint), in its format (an MTurk Ping document, an s3:TestEvent, a JSON
                      document with the configured pointers), like MTurk's SendTestEventNotification.""");

    private Operations() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        boolean queues = args[0].equals("queues") || args[0].equals("ledger");
        String sub = queues ? (args.length > 1 ? args[0] + " " + args[1] : "") : "send-test-event";
        int from = queues ? 2 : 1;
        if (args[args.length - 1].equals("--help") || args[args.length - 1].equals("-h")) {
            out.println(HELP.getOrDefault(sub, "ferry queues create | list-dlq-sources | redrive, ferry ledger create-table, "
                    + "ferry send-test-event: 'ferry COMMAND --help' for one of them"));
            return Ferry.OK;
        }
        if ((args.length - from) % 2 != 0) {
            err.println("ferry " + String.join(" ", args) + ": options come in pairs (--name value)");
            return Ferry.USAGE;
        }
        Map<String, String> options = new HashMap<>();
        for (int i = from; i < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        String file = options.get("--config");
        if (file == null) {
            err.println("ferry " + sub + ": --config FILE is required");
            return Ferry.USAGE;
        }
        var config = Ferry.readConfig(FerryComponent.create(Plugins.fromEnvironment()), file, err);
        if (config == null) {
            return Ferry.USAGE;
        }
        try (var client = SqsClients.forContext(new RunContext(config, false))) {
            var sqs = SqsQueues.of(client);
            switch (sub) {
                case "ledger create-table" -> {
                    if (!config.ledger().kind().equals("dynamodb")) {
                        out.println("the ledger of " + file + " is kind '" + config.ledger().kind() + "': it needs no table");
                        return Ferry.OK;
                    }
                    try (var context = new RunContext(config, true)) {
                        var ledger = config.ledger().plan().open(context);
                        if (ledger instanceof AutoCloseable c) {
                            c.close();
                        }
                    }
                    out.println("the DynamoDB ledger table exists (created if it was missing, with TTL on)");
                    return Ferry.OK;
                }
                case "queues create" -> {
                    for (var created : FerryRuntime.createQueues(sqs, config)) {
                        out.println("queue " + created.url() + " (dead letters: " + created.deadLetterQueueUrl() + ")");
                    }
                    return Ferry.OK;
                }
                case "queues list-dlq-sources" -> {
                    String dlq = required(options, "--queue", err);
                    if (dlq == null) {
                        return Ferry.USAGE;
                    }
                    sqs.deadLetterSourceQueues(sqs.url(dlq)).forEach(out::println);
                    return Ferry.OK;
                }
                case "queues redrive" -> {
                    String dlq = required(options, "--from", err);
                    String target = required(options, "--to", err);
                    if (dlq == null || target == null) {
                        return Ferry.USAGE;
                    }
                    int max = Integer.parseInt(options.getOrDefault("--max", "1000000"));
                    var report = sqs.redrive(sqs.url(dlq), sqs.url(target), max);
                    out.println("moved " + report.moved() + " message(s) from " + dlq + " to " + target
                            + (report.failed() > 0 ? "; " + report.failed() + " stayed in " + dlq + " (send failed)" : ""));
                    return report.failed() > 0 ? Ferry.FAILED : Ferry.OK;
                }
                case "send-test-event" -> {
                    String name = required(options, "--source", err);
                    if (name == null) {
                        return Ferry.USAGE;
                    }
                    var source = config.sources().get(name);
                    if (source == null) {
                        err.println("ferry send-test-event: no source named '" + name + "' (sources: " + config.sources().keySet() + ")");
                        return Ferry.USAGE;
                    }
                    String body = TestEvents.body(source);
                    if (source.plan() instanceof HttpSourceConfig http) {
                        out.println("posted a test event (" + source.format() + ") to source '" + name + "': HTTP "
                                + TestEvents.post(http, body));
                        return Ferry.OK;
                    }
                    if (source.plan() instanceof KafkaSourceConfig kafka) {
                        out.println("produced a test event (" + source.format() + ") to " + TestEvents.produce(kafka, body));
                        return Ferry.OK;
                    }
                    if (!(source.plan() instanceof SqsSourceConfig queue)) {
                        err.println("ferry send-test-event: source '" + name + "' reads from " + source.transport()
                                + ", which this command does not know how to feed");
                        return Ferry.USAGE;
                    }
                    var request = SendMessageRequest.builder().queueUrl(sqs.url(queue.queue())).messageBody(body);
                    if (queue.fifo()) {
                        request.messageGroupId("ferry-test").messageDeduplicationId(UUID.randomUUID().toString());
                    }
                    String id = client.sendMessage(request.build()).messageId();
                    out.println("sent a test event (" + source.format() + ") to " + queue.queue() + " as message " + id);
                    return Ferry.OK;
                }
                default -> {
                    err.println("ferry: unknown command '" + sub + "' (queues create | list-dlq-sources | redrive, "
                            + "ledger create-table)");
                    return Ferry.USAGE;
                }
            }
        } catch (Exception e) {
            err.println("ferry: " + e.getMessage());
            return Ferry.FAILED;
        }
    }

    private static String required(Map<String, String> options, String name, PrintStream err) {
        String v = options.get(name);
        if (v == null) {
            err.println("ferry: " + name + " is required");
        }
        return v;
    }

}
