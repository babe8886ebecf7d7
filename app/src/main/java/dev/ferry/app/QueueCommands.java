package dev.ferry.app;

import dev.ferry.adapters.http.HttpSourceConfig;
import dev.ferry.adapters.kafka.KafkaSourceConfig;
import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.FerryConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;

/** The commands that act on a configuration's queues, ledger table and sources, with its AWS settings. */
final class QueueCommands {

    private QueueCommands() {
    }

    /** A command on the queues of a configuration: reads it, opens an SQS client on its AWS settings. */
    abstract static class OnQueues implements Callable<Integer> {
        protected final Ferry.Io io;

        @Spec
        protected CommandSpec spec;

        @Mixin
        protected ConfigFileOption config;

        OnQueues(Ferry.Io io) {
            this.io = io;
        }

        @Override
        public final Integer call() throws Exception {
            checkOptions();
            FerryConfig read = config.read(config.component());
            if (read == null) {
                return Ferry.USAGE;
            }
            try (var client = SqsClients.forContext(new RunContext(read, false))) {
                return run(read, client, SqsQueues.of(client));
            }
        }

        /** Option combinations picocli cannot check; throws a {@link ParameterException}. */
        void checkOptions() {
        }

        abstract int run(FerryConfig config, SqsClient client, SqsQueues queues) throws Exception;

        ParameterException usage(String message) {
            return new ParameterException(spec.commandLine(), message);
        }
    }

    @Command(name = "queues", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            synopsisSubcommandLabel = "COMMAND", description = "Creates, inspects and redrives the configuration's SQS queues.",
            subcommands = {Create.class, ListDlqSources.class, Redrive.class, AllowMturk.class})
    static final class Queues implements Runnable {
        @Spec
        private CommandSpec spec;

        @Override
        public void run() {
            throw new ParameterException(spec.commandLine(), "Missing the command: create, list-dlq-sources, redrive or allow-mturk");
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Creates every SQS queue the configuration names (sources and sqs sinks), each with a "
                    + "dead-letter queue NAME-dlq (NAME-dlq.fifo for FIFO queues) and a redrive policy. Queues that exist are kept."})
    static final class Create extends OnQueues {
        Create(Ferry.Io io) {
            super(io);
        }

        @Override
        int run(FerryConfig config, SqsClient client, SqsQueues queues) {
            var made = ConfigParts.createQueues(client, queues, config); // another account's queue: refused, none made
            made.created().forEach(q -> io.out().println("queue " + q.url() + " (dead letters: " + q.deadLetterQueueUrl() + ")"));
            made.elsewhere().forEach(io.out()::println);
            made.refused().forEach(refusal -> io.err().println("ferry: " + refusal));
            return made.refused().isEmpty() ? Ferry.OK : Ferry.USAGE;
        }
    }

    @Command(name = "list-dlq-sources", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = "Lists the URLs of the queues whose redrive policy sends to the dead-letter queue DLQ.")
    static final class ListDlqSources extends OnQueues {
        @Option(names = "--queue", required = true, paramLabel = "DLQ", description = "The dead-letter queue: a name, URL or ARN.")
        private String queue;

        ListDlqSources(Ferry.Io io) {
            super(io);
        }

        @Override
        int run(FerryConfig config, SqsClient client, SqsQueues queues) {
            queues.deadLetterSourceQueues(queues.url(queue)).forEach(io.out()::println);
            return Ferry.OK;
        }
    }

    @Command(name = "redrive", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Moves messages from a dead-letter queue back to a queue: each is copied with its attributes "
                    + "(Ferry's dead-letter attributes removed), the copy confirmed, then the original deleted. "
                    + "Shows progress: a bar on a terminal, a line every 10 seconds otherwise. Exit 1 if any stayed behind."})
    static final class Redrive extends OnQueues {
        @Option(names = "--from", required = true, paramLabel = "DLQ", description = "The dead-letter queue: a name, URL or ARN.")
        private String from;

        @Option(names = "--to", paramLabel = "QUEUE",
                description = "Where the messages go: a name, URL or ARN. Required, except with --native, where it "
                        + "defaults to the queues the messages were dead-lettered from.")
        private String to;

        @Option(names = "--max", paramLabel = "N", description = "Move at most N messages (default: all).")
        private Integer max;

        @Option(names = "--rate", paramLabel = "PER_SECOND", description = "Move at most this many messages a second.")
        private Double rate;

        @Option(names = "--dry-run", description = "Check both queues and say what would move; move nothing.")
        private boolean dryRun;

        @Option(names = "--native", description = "Let SQS move the messages (its message move task), and follow its "
                + "progress. Moves the whole DLQ: cannot be combined with --max.")
        private boolean nativeTask;

        @Option(names = "--force", description = "Redrive the DLQ of an on-poison: park source all the same (a message "
                + "SQS moved there itself); parked groups are released with 'ferry groups release'. Also moves them to a "
                + "--to that is not a queue the DLQ serves. Other queues' dead letters stay: see --with-other-queues.")
        private boolean force;

        @Option(names = "--with-other-queues", description = "Move the dead letters of the other queues sharing the DLQ to "
                + "--to as well (they stay in it otherwise, and --native --to is refused while it holds any).")
        private boolean withOtherQueues;

        Redrive(Ferry.Io io) {
            super(io);
        }

        @Override
        void checkOptions() {
            if (max != null && max < 1) {
                throw usage("--max must be at least 1, was " + max);
            }
            if (rate != null && !(rate > 0)) {
                throw usage("--rate must be more than 0 messages a second, was " + rate);
            }
            if (nativeTask && max != null) {
                throw usage("--native moves the whole dead-letter queue; --max cannot limit it (leave out one of them)");
            }
            if (nativeTask && rate != null && (rate != Math.floor(rate) || rate > 500)) {
                throw usage("--native takes a whole --rate of 1 to 500 messages a second (SQS's limits), was " + rate);
            }
            if (!nativeTask && to == null) {
                throw usage("Missing required option: '--to=QUEUE' (only --native may leave it out)");
            }
        }

        @Override
        int run(FerryConfig config, SqsClient client, SqsQueues queues) throws Exception {
            String dlqUrl = queues.url(from);
            String targetUrl = to == null ? null : queues.url(to);
            if (targetUrl != null && ParkingDeadLetters.sameQueue(dlqUrl, targetUrl)) { // a URL of another host is the queue too
                throw usage("--from and --to are the same queue (" + dlqUrl + "): every copy would be received again, "
                        + "for ever");
            }
            // forced, Ferry's redrive leaves the letters of groups parked now in place; SQS's move task moves them all
            String parking = force && !nativeTask ? null : ParkingDeadLetters.parkingSource(config, queues, dlqUrl);
            if (parking != null) {
                throw usage(ParkingDeadLetters.refusal(from, parking));
            }
            var shared = new SharedDeadLetterQueue(queues, from, to, dlqUrl, targetUrl); // its letters read, not its policies
            String refused = shared.refusal(force, withOtherQueues, nativeTask, dryRun, max);
            if (refused != null) {
                throw usage(refused);
            }
            shared.notes(io.err(), dryRun);
            long waiting = queues.approximateMessages(dlqUrl);
            long total = max == null ? waiting : Math.min(waiting, max);
            String where = to == null ? "the queues they came from" : to;
            if (dryRun) {
                io.out().println("dry run: would move " + (max == null ? "all " : "up to " + max + " of the ")
                        + "about " + waiting + " message(s) in " + from + " to " + where
                        + (nativeTask ? " with SQS's message move task" : "") + (rate != null ? " at " + rate + " a second" : "")
                        + shared.wouldStay() + "; nothing moved");
                return Ferry.OK;
            }
            if (nativeTask) {
                return NativeRedrive.follow(queues, dlqUrl, queues.describe(dlqUrl).arn(),
                        targetUrl == null ? null : queues.describe(targetUrl).arn(), rate == null ? 0 : rate.intValue(),
                        new RedriveProgressLine(io.out(), RedriveProgressLine.onTerminal(), waiting), from, where);
            }
            var progress = new RedriveProgressLine(io.out(), RedriveProgressLine.onTerminal(), total);
            var stop = RedriveStop.onExit(from, java.time.Duration.ofSeconds(30), io.err()); // Ctrl-C: after the batch
            // the run is over for the hook only once its last words are out: a stop halts the JVM right after
            try (var parked = ParkedGroupsHere.open(config)) { // only the letters of groups parked now stay
                SqsQueues.RedriveReport report;
                try {
                    report = queues.redrive(dlqUrl, targetUrl, max == null ? Integer.MAX_VALUE : max,
                            rate == null ? 0 : rate, stop.around(progress::update), parked.parkedNow(), withOtherQueues);
                } catch (RuntimeException e) { // what moved before it ended is said, not only the error
                    progress.finish();
                    io.out().println("moved " + progress.moved() + " message(s) from " + from + " to " + where
                            + " before the redrive ended" + (progress.failed() > 0 ? "; " + progress.failed()
                            + " stayed in " + from + " (their copies failed)" : ""));
                    io.out().flush();
                    if (stop.asked()) { // said here: past the hook, the JVM may halt before the error reaches stderr
                        io.err().println("ferry: " + Printable.of(Thrown.message(e)));
                        io.err().flush();
                    }
                    throw e;
                }
                progress.finish();
                io.out().println("moved " + report.moved() + " message(s) from " + from + " to " + where
                        + (report.cameBack() > 0 ? "; " + report.cameBack() + " of their copies came back failing again and "
                                + "stay in " + from : "")
                        + parked.said(report, from)
                        + SharedDeadLetterQueue.said(report, from, where)
                        + (report.failed() > 0 ? "; " + report.failed() + " stayed in " + from + " (send failed: "
                                + Printable.of(report.problem()) + ")" : "")
                        + (report.failed() == 0 && report.problem() != null ? "; " + Printable.of(report.problem()) : ""));
                io.out().flush();
                // copies that came back failing, and messages another reader held, stay behind in the DLQ as surely as
                // those whose send failed: a script's "redrive && echo drained" said drained with them all still there
                return report.failed() > 0 || report.cameBack() > 0 || report.problem() != null ? Ferry.FAILED : Ferry.OK;
            } finally {
                stop.over();
            }
        }
    }

    @Command(name = "allow-mturk", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Sets the access policy Amazon Mechanical Turk needs to send notifications to a queue: only "
                    + "the MTurk service may SendMessage, and only over TLS. A queue with a policy of its own is left as it "
                    + "is unless --replace says so (what it allows, SNS or another account, would be refused from then on)."})
    static final class AllowMturk extends OnQueues {
        @Option(names = "--queue", paramLabel = "QUEUE",
                description = "A queue (name, URL or ARN); repeatable. Default: every SQS source of format mturk (not "
                        + "sns+mturk: SNS delivers to those, and its own policy must stay).")
        private List<String> queue = new ArrayList<>();

        @Option(names = "--replace", description = "Replace a policy the queue has already (by default such a queue is left "
                + "as it is, and the command fails saying so).")
        private boolean replace;

        @Option(names = "--print", description = "Print the policy of each queue instead of setting it.")
        private boolean print;

        AllowMturk(Ferry.Io io) {
            super(io);
        }

        @Override
        int run(FerryConfig config, SqsClient client, SqsQueues queues) {
            var targets = new ArrayList<>(queue);
            if (targets.isEmpty()) {
                config.sources().values().forEach(source -> {
                    if (source.plan() instanceof SqsSourceConfig sqs && source.format().equals("mturk")) {
                        targets.add(sqs.queue());
                    }
                });
            }
            if (targets.isEmpty()) {
                throw usage("No queue to allow: the configuration has no SQS source of format mturk; name one with --queue");
            }
            int kept = 0;
            for (String target : targets) {
                String url = queues.url(target);
                String policy = SqsQueues.mturkSendPolicy(queues.describe(url).arn());
                if (print) {
                    io.out().println(target + ": " + policy);
                    continue;
                }
                String current = client.getQueueAttributes(b -> b.queueUrl(url)
                        .attributeNames(software.amazon.awssdk.services.sqs.model.QueueAttributeName.POLICY)).attributes()
                        .get(software.amazon.awssdk.services.sqs.model.QueueAttributeName.POLICY);
                if (leftAsItIs(current, policy, replace)) {
                    // replaced, what it allowed was refused from then on: an SNS subscription's deliveries stopped, silently
                    io.err().println("ferry: " + url + " has a policy of its own; left as it is (add MTurk's statement to it — "
                            + "--print shows it — or --replace)");
                    kept++;
                    continue;
                }
                queues.setPolicy(url, policy);
                io.out().println("MTurk may now send to " + url);
            }
            return kept > 0 ? Ferry.FAILED : Ferry.OK;
        }

        /** Whether a queue's {@code current} policy stays: one of its own, not MTurk's, unless {@code replace}. */
        static boolean leftAsItIs(String current, String mturks, boolean replace) {
            return current != null && !current.isBlank() && !current.equals(mturks) && !replace;
        }
    }

    @Command(name = "ledger", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            synopsisSubcommandLabel = "COMMAND", description = "Prepares the configuration's ledger.",
            subcommands = CreateTable.class)
    static final class Ledger implements Runnable {
        @Spec
        private CommandSpec spec;

        @Override
        public void run() {
            throw new ParameterException(spec.commandLine(), "Missing the command: create-table");
        }
    }

    @Command(name = "create-table", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Creates the DynamoDB table of the configuration's ledger (kind: dynamodb), on-demand, with TTL "
                    + "on the expiry attribute; a table that exists is kept."})
    static final class CreateTable implements Callable<Integer> {
        private final Ferry.Io io;

        @Mixin
        private ConfigFileOption config;

        CreateTable(Ferry.Io io) {
            this.io = io;
        }

        @Override
        public Integer call() throws Exception {
            FerryConfig read = config.read(config.component());
            if (read == null) {
                return Ferry.USAGE;
            }
            if (!read.ledger().kind().equals("dynamodb")) {
                io.out().println("the ledger of " + config.path() + " is kind '" + read.ledger().kind() + "': it needs no table");
                return Ferry.OK;
            }
            try (var context = new RunContext(read, true).forProvisionOnly()) {
                var ledger = read.ledger().plan().open(context);
                if (ledger instanceof AutoCloseable c) {
                    c.close();
                }
            }
            // TTL that could be neither asked about nor turned on (a role without the TTL actions) is warned of above
            io.out().println("the DynamoDB ledger table exists (created if it was missing; TTL on, unless warned above)");
            return Ferry.OK;
        }
    }

    @Command(name = "send-test-event", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Puts a well-formed sample where a source reads (its SQS queue, its Kafka topic, or a POST to "
                    + "its HTTP endpoint), in its format (an MTurk Ping document, an s3:TestEvent, a JSON document with "
                    + "the configured pointers), like MTurk's SendTestEventNotification."})
    static final class SendTestEvent extends OnQueues {
        @Option(names = "--source", required = true, paramLabel = "NAME", description = "The source to feed.")
        private String name;

        SendTestEvent(Ferry.Io io) {
            super(io);
        }

        @Override
        int run(FerryConfig config, SqsClient client, SqsQueues queues) throws Exception {
            var source = config.sources().get(name);
            if (source == null) {
                throw usage("No source named '" + name + "' (sources: " + config.sources().keySet() + ")");
            }
            String body = TestEvents.body(source);
            if (source.plan() instanceof HttpSourceConfig http) {
                var answer = TestEvents.post(http, body);
                // a refusal (a rotated token's 401, a 429, a 5xx) is a failure: a smoke test "send-test-event && ..."
                // passed on every one of them
                (answer.accepted() ? io.out() : io.err()).println("posted a test event (" + source.format()
                        + ") to source '" + name + "': HTTP " + Printable.of(answer.toString()));
                return answer.accepted() ? Ferry.OK : Ferry.FAILED;
            }
            if (source.plan() instanceof KafkaSourceConfig kafka) {
                io.out().println("produced a test event (" + source.format() + ") to " + TestEvents.produce(kafka, body));
                return Ferry.OK;
            }
            if (!(source.plan() instanceof SqsSourceConfig queue)) {
                throw usage("Source '" + name + "' reads from " + source.transport() + ", which this command does not know how to feed");
            }
            var request = SendMessageRequest.builder().queueUrl(queues.url(queue.queue())).messageBody(body);
            if (queue.fifo()) {
                request.messageGroupId("ferry-test").messageDeduplicationId(UUID.randomUUID().toString());
            }
            String id = client.sendMessage(request.build()).messageId();
            io.out().println("sent a test event (" + source.format() + ") to " + queue.queue() + " as message " + id);
            return Ferry.OK;
        }
    }
}
