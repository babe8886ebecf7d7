package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/** The queue commands against a real SQS-compatible server (ElasticMQ on 127.0.0.1), as a user types them. */
class QueueCommandsIT {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Test
    void create_redriveWithLimitAndRate_aTypoMovesNothing_nativeMoveTask_andTheMturkPolicy(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = configFor(sqs, dir.resolve("orders.yaml"), "{kind: memory}",
                    "orders: {sqs: {queue: orders}, format: mturk}");

            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, env::get)).as(err.toString()).isZero();
            assertThat(out.toString()).contains("/orders (dead letters: ").contains("/orders-dlq)");
            for (int i = 0; i < 25; i++) {
                sqs.send("orders-dlq", "{\"n\":" + i + "}");
            }
            var queues = SqsQueues.of(sqs.client);

            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq", "--to", "orders", "--mx", "10"},
                    out, err, env::get)).isEqualTo(2);
            assertThat(queues.approximateMessages(sqs.url("orders-dlq"))).isEqualTo(25);
            assertThat(queues.approximateMessages(sqs.url("orders"))).isZero();
            var packaged = FerryProcess.run(sqs.env(), "queues", "redrive", "-c", env.get("FERRY_CONFIG"), "--from", "orders-dlq",
                    "--to", "orders", "--mx", "10");
            assertThat(packaged.exitCode()).as(packaged.output()).isEqualTo(2);
            assertThat(packaged.output()).contains("Unknown options: '--mx', '10'").contains("Did you mean --max?");
            assertThat(queues.approximateMessages(sqs.url("orders-dlq"))).as("the packaged jar moved nothing").isEqualTo(25);

            var same = new ByteArrayOutputStream();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq", "--to", sqs.url("orders-dlq")},
                    out, same, env::get)).isEqualTo(2);
            assertThat(same.toString()).contains("--from and --to are the same queue");
            assertThat(queues.approximateMessages(sqs.url("orders-dlq"))).isEqualTo(25);

            // --to payments for orders: one pipeline's dead letters run through another's
            sqs.client.createQueue(b -> b.queueName("payments"));
            var slip = new ByteArrayOutputStream();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq", "--to", "payments"},
                    out, slip, env::get)).as(slip.toString()).isEqualTo(2);
            assertThat(slip.toString()).contains("is not a queue whose dead-letter queue orders-dlq is").contains("--force");
            assertThat(queues.approximateMessages(sqs.url("payments"))).isZero();
            assertThat(queues.approximateMessages(sqs.url("orders-dlq"))).isEqualTo(25);

            out.reset();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq", "--to", "orders", "--max", "10",
                    "--rate", "200"}, out, err, env::get)).as(err.toString()).isZero();
            assertThat(out.toString()).contains("redrive: 10 of about 10 moved (100%)")
                    .contains("moved 10 message(s) from orders-dlq to orders");
            assertThat(queues.approximateMessages(sqs.url("orders"))).isEqualTo(10);
            assertThat(queues.approximateMessages(sqs.url("orders-dlq"))).isEqualTo(15);

            out.reset();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "orders-dlq", "--native"}, out, err, env::get))
                    .as(err.toString()).isZero();
            assertThat(sqs.drain("orders", 25, 20)).hasSize(25);
            assertThat(queues.approximateMessages(sqs.url("orders-dlq"))).isZero();
            assertThat(out.toString()).contains("from orders-dlq to the queues they came from (SQS's message move task); "
                    + "orders-dlq now holds about 0");

            out.reset();
            assertThat(Ferry.run(new String[] {"queues", "allow-mturk", "--print"}, out, err, env::get)).as(err.toString()).isZero();
            assertThat(out.toString()).contains("orders: {\"Version\":\"2012-10-17\"")
                    .contains("\"Principal\":{\"Service\":\"mturk-requester.amazonaws.com\"}")
                    .contains("\"Resource\":\"arn:aws:sqs:");
            assertThat(Ferry.run(new String[] {"queues", "allow-mturk"}, out, err, env::get)).as(err.toString()).isZero();
            assertThat(out.toString()).contains("MTurk may now send to " + sqs.url("orders"));
            assertThat(Ferry.run(new String[] {"queues", "allow-mturk"}, out, err, env::get)).as("again: the same policy")
                    .isZero();
        }
    }

    @Test // a review: a redrive that ended in an error (its DLQ gone, SQS unreachable) printed the error alone — how many
          // had moved was never said, the last progress line up to 10 s old
    void aRedriveThatEndsInAnError_saysHowManyMovedBeforeIt(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = deadLettersBeside(sqs, dir, "gone-dlq", "kept", 60);
            String dlqUrl = sqs.url("gone-dlq");
            var deleting = Thread.ofVirtual().start(() -> { // the DLQ deleted under the run, after its first batches
                dev.ferry.domain.testing.Await.until(java.time.Duration.ofMillis(1_500), () -> false);
                sqs.client.deleteQueue(b -> b.queueUrl(dlqUrl));
            });
            int exit = Ferry.run(new String[] {"queues", "redrive", "--from", "gone-dlq", "--to", "kept", "--force",
                    "--rate", "10"}, out, err, env::get);
            deleting.join(10_000);

            assertThat(exit).as(out + " " + err).isNotZero();
            var said = java.util.regex.Pattern.compile("moved (\\d+) message\\(s\\) from gone-dlq to kept before the redrive ended")
                    .matcher(out.toString());
            assertThat(said.find()).as(out.toString()).isTrue();
            int moved = Integer.parseInt(said.group(1));
            assertThat(moved).isPositive().isLessThan(60);
            assertThat(sqs.depth("kept")).as("what it said moved is in the target").isEqualTo(moved);
        }
    }

    @Test // a review: Ctrl-C during a CLI redrive stopped the JVM wherever the run was — between a batch's copies and their
          // deletes, up to ten messages were in both queues, sent again by the next run
    void aStoppedRedrive_endsAfterTheBatchInHand_nothingInBothQueues() throws Exception {
        try (var sqs = new LocalSqs()) {
            sqs.client.createQueue(b -> b.queueName("stop-dlq"));
            sqs.client.createQueue(b -> b.queueName("stop"));
            for (int i = 0; i < 60; i++) {
                sqs.send("stop-dlq", "dead-" + i);
            }
            var stop = new RedriveStop("stop-dlq", java.time.Duration.ofSeconds(30));
            var thrown = new java.util.concurrent.atomic.AtomicReference<Throwable>();
            var run = Thread.ofPlatform().start(() -> {
                try {
                    SqsQueues.of(sqs.client).redrive(sqs.url("stop-dlq"), sqs.url("stop"), Integer.MAX_VALUE, 10,
                            stop.around((moved, failed) -> { }));
                } catch (Throwable e) {
                    thrown.set(e);
                } finally {
                    stop.over();
                }
            });
            dev.ferry.domain.testing.Await.until(java.time.Duration.ofMillis(1_200), () -> false);

            assertThat(stop.stop()).as("the run ended within the patience").isTrue();
            run.join(10_000);

            assertThat(thrown.get()).isNotNull().hasMessageContaining("stopped after the batch in hand");
            var inTarget = sqs.drain("stop", 1, 10).stream().map(software.amazon.awssdk.services.sqs.model.Message::body).toList();
            var inDlq = sqs.drain("stop-dlq", 1, 10).stream().map(software.amazon.awssdk.services.sqs.model.Message::body).toList();
            assertThat(inTarget).as("some moved before the stop").isNotEmpty().doesNotHaveDuplicates();
            assertThat(inDlq).as("nothing in both queues").doesNotContainAnyElementsOf(inTarget);
            assertThat(inTarget.size() + inDlq.size()).isEqualTo(60);
        }
    }

    @Test // a review: exit 0 ("done") while every copy came back failing and stayed in the DLQ
    void aRedriveWhoseCopiesComeBackFailing_exits1(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = deadLettersBeside(sqs, dir, "back-dlq", "back", 5);
            int exit;
            try (var failing = sqs.failingConsumer("back", "back-dlq")) { // each copy back to the DLQ
                exit = Ferry.run(new String[] {"queues", "redrive", "--from", "back-dlq", "--to", "back", "--force"}, out, err,
                        env::get);
            }

            assertThat(out.toString()).contains("came back failing again");
            assertThat(exit).as(out + " " + err).isEqualTo(1);
        }
    }

    /**
     * A review: orders and payments dead-lettering to one shared-dlq, 'redrive --from shared-dlq --to orders' passed the
     * --to check (orders is one it serves) and copied payments' dead letters to orders too — run through orders' routes,
     * never reaching payments' sinks, deleted from the DLQ, exit 0 — and its dry run said nothing of them. They stay now,
     * and both say so; a letter that names no queue (a producer sent it there) moves as before.
     */
    @Test
    void aRedriveOfADlqSharedWithAnotherQueue_leavesThatQueuesDeadLetters_andSaysSo(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = sharedDeadLetterQueue(sqs, dir);

            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders", "--dry-run"},
                    out, err, env::get)).as(err.toString()).isZero();
            assertThat(out.toString()).contains("of the 3 message(s) read, 1 were dead-lettered from other queues (payments) "
                    + "and would stay in shared-dlq").contains("nothing moved");
            assertThat(sqs.depth("orders")).isZero();

            out.reset(); // right after the dry run: what it read is in sight again
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders"}, out, err,
                    env::get)).as(out + " " + err).isZero();
            assertThat(out.toString()).contains("moved 2 message(s) from shared-dlq to orders")
                    .contains("1 dead letter(s) of other queues stay in shared-dlq (dead-lettered from payments)");
            assertThat(sqs.drain("orders", 2, 10)).extracting(Message::body)
                    .containsExactlyInAnyOrder("for-orders", "from-nowhere");
            assertThat(sqs.drain("shared-dlq", 1, 10)).extracting(Message::body).as("payments' letter, for payments")
                    .containsExactly("for-payments");
        }
    }

    @Test // SQS's message move task moves every message to --to: another queue's dead letters cannot be left behind
    void aNativeRedriveToOneOfTheQueuesSharingADlq_isRefused_unlessWithOtherQueues(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = sharedDeadLetterQueue(sqs, dir);

            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders", "--native"},
                    out, err, env::get)).as(out + " " + err).isEqualTo(2);
            assertThat(err.toString()).contains("the dead letters of other queues too").contains("(payments)")
                    .contains("cannot leave them behind").contains("--with-other-queues");
            assertThat(sqs.depth("orders")).isZero();
            assertThat(sqs.depth("shared-dlq")).isEqualTo(3);
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders", "--native",
                    "--force", "--dry-run"}, out, err, env::get)).as("--force is not --with-other-queues: " + err).isEqualTo(2);
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders", "--native",
                    "--with-other-queues", "--dry-run"}, out, err, env::get)).as("it lets it through: " + err).isZero();
        }
    }

    /**
     * A review: the refusal of an on-poison: park source's DLQ advised --force for another queue's letters there, and
     * --force also meant "the other queues' letters too" — so on a FIFO DLQ that orders (parking) shares with payments,
     * '--to orders.fifo --force', the only way past the refusal, moved payments' letter into orders, exit 0. --force
     * keeps its meaning; --with-other-queues alone moves them.
     */
    @Test
    void aForcedRedriveOfAParkingSourcesDlqSharedWithAnotherQueue_leavesThatQueuesLetters_unlessWithOtherQueues(
            @TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var queues = SqsQueues.of(sqs.client);
            for (var name : List.of("orders.fifo", "payments.fifo")) {
                queues.create(new SqsQueues.QueueSpec(name, false, java.time.Duration.ofSeconds(30), java.time.Duration.ZERO,
                        "shared-dlq.fifo", 5));
            }
            for (var from : List.of("orders", "payments")) { // each in a group of its own: nothing waits behind either
                sqs.client.sendMessage(b -> b.queueUrl(sqs.url("shared-dlq.fifo")).messageBody("for-" + from)
                        .messageGroupId(from).messageDeduplicationId(from).messageAttributes(Map.of(DeadLetterAttributes.REASON,
                                text("HTTP 500"), DeadLetterAttributes.SOURCE, text(from + ".fifo"))));
            }
            String ledger = dir.resolve("ledger.db").toAbsolutePath().toString().replace('\\', '/');
            var env = configFor(sqs, dir.resolve("orders.yaml"), "{kind: mvstore, path: \"" + ledger + "\"}",
                    "orders: {sqs: {queue: orders.fifo}, format: json, on-poison: park}");

            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq.fifo", "--to", "orders.fifo"},
                    out, err, env::get)).isEqualTo(2);
            assertThat(err.toString()).contains("parked groups of source 'orders'").contains("--with-other-queues");

            out.reset();
            int exit = Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq.fifo", "--to", "orders.fifo",
                    "--force"}, out, err, env::get);

            assertThat(sqs.depth("shared-dlq.fifo")).as("payments' letter stays, for payments: " + out + err).isEqualTo(1);
            assertThat(sqs.drain("orders.fifo", 1, 10)).extracting(Message::body).containsExactly("for-orders");
            assertThat(out.toString()).contains("1 dead letter(s) of other queues stay in shared-dlq.fifo (dead-lettered "
                    + "from payments.fifo)").contains("or with --with-other-queues to orders.fifo too");
            assertThat(exit).as("a FIFO DLQ: letters behind payments' in its group may not have moved: " + out).isEqualTo(1);

            out.reset();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq.fifo", "--to", "orders.fifo",
                    "--force", "--with-other-queues"}, out, err, env::get)).as(out + " " + err).isZero();
            assertThat(sqs.drain("orders.fifo", 1, 10)).extracting(Message::body).containsExactly("for-payments");
            assertThat(sqs.depth("shared-dlq.fifo")).isZero();
        }
    }

    /**
     * A review: whose letters a shared DLQ holds was told by the queues' redrive policies, which name only the queues
     * pointing at it now. Payments re-pointed elsewhere (or renamed, or deleted), its letter still there, the dry run of a
     * redrive to orders said nothing of it, and '--native --to orders' was not refused: SQS's move task moved it into
     * orders, exit 0. The letters are read instead.
     */
    @Test
    void aNativeRedriveToOneQueue_ofADlqHoldingTheLetterOfAQueueNoLongerPointingAtIt_isRefused(@TempDir Path dir)
            throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = sharedDeadLetterQueue(sqs, dir);
            var queues = SqsQueues.of(sqs.client);
            // deleted (ElasticMQ's list of source queues does not follow a policy changed in place: re-pointed or
            // renamed, the same holds on SQS)
            sqs.client.deleteQueue(b -> b.queueUrl(sqs.url("payments")));
            assertThat(queues.deadLetterSourceQueues(sqs.url("shared-dlq"))).as("payments no longer named by a policy")
                    .hasSize(1);

            out.reset();
            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders", "--dry-run"},
                    out, err, env::get)).as(err.toString()).isZero();
            assertThat(out.toString()).contains("of the 3 message(s) read, 1 were dead-lettered from other queues (payments) "
                    + "and would stay in shared-dlq");

            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders", "--native"},
                    out, err, env::get)).as(out + " " + err).isEqualTo(2);
            assertThat(err.toString()).contains("the dead letters of other queues too").contains("(payments)")
                    .contains("--with-other-queues");
            assertThat(sqs.depth("orders")).as("nothing moved into orders").isZero();
            assertThat(sqs.depth("shared-dlq")).isEqualTo(3);
        }
    }

    /**
     * A last look: the read that decides a native move hides what it reads, and SQS gives nothing more of a FIFO group
     * while its letters are hidden — another queue's letter behind a group's first ten was unseen, the read said
     * "whole", and SQS's move task took it into orders. A FIFO DLQ's read is never whole.
     */
    @Test
    void aNativeRedriveOfASharedFifoDlq_whereAnotherQueuesLetterWaitsBehindAGroupsFirstOnes_isRefused(@TempDir Path dir)
            throws Exception {
        try (var sqs = new LocalSqs()) {
            var queues = SqsQueues.of(sqs.client);
            for (var name : List.of("orders.fifo", "payments.fifo")) {
                queues.create(new SqsQueues.QueueSpec(name, false, java.time.Duration.ofSeconds(30), java.time.Duration.ZERO,
                        "shared-dlq.fifo", 5));
            }
            for (int i = 1; i <= 13; i++) { // one group: twelve of orders', then one of payments' behind them
                String from = i <= 12 ? "orders" : "payments";
                String id = from + "-" + i;
                sqs.client.sendMessage(b -> b.queueUrl(sqs.url("shared-dlq.fifo")).messageBody(id).messageGroupId("g")
                        .messageDeduplicationId(id).messageAttributes(Map.of(DeadLetterAttributes.REASON, text("HTTP 500"),
                                DeadLetterAttributes.SOURCE, text(from + ".fifo"))));
            }
            var env = configFor(sqs, dir.resolve("orders.yaml"), "{kind: memory}",
                    "orders: {sqs: {queue: orders.fifo}, format: raw}");

            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq.fifo", "--to", "orders.fifo",
                    "--native", "--dry-run"}, out, err, env::get)).as(out + " " + err).isEqualTo(2);
            assertThat(err.toString()).contains("--native --to orders.fifo").contains("--with-other-queues");
            assertThat(sqs.depth("orders.fifo")).as("nothing moved into orders").isZero();
        }
    }

    /**
     * A review: a letter SQS moved into shared-dlq itself (payments' maxReceiveCount) names no queue as Ferry's do, and
     * was read as one naming none: '--native --to orders' was not refused, and SQS's move task took payments' letter into
     * orders, exit 0. SQS keeps the queue it moved it from on it, and that is read now.
     */
    @Test
    void aNativeRedriveToOneQueue_ofADlqHoldingALetterSqsMovedThereFromAnother_isRefused(@TempDir Path dir)
            throws Exception {
        try (var sqs = new LocalSqs()) {
            var queues = SqsQueues.of(sqs.client);
            for (var name : List.of("orders", "payments")) {
                queues.create(new SqsQueues.QueueSpec(name, false, java.time.Duration.ofSeconds(30), java.time.Duration.ZERO,
                        "shared-dlq", 1));
            }
            sqs.send("payments", "p1");
            for (int i = 0; i < 5 && sqs.depth("shared-dlq") == 0; i++) { // in sight again at once; received past 1, moved
                sqs.client.receiveMessage(b -> b.queueUrl(sqs.url("payments")).visibilityTimeout(0).waitTimeSeconds(1));
            }
            assertThat(dev.ferry.domain.testing.Await.until(java.time.Duration.ofSeconds(10),
                    () -> sqs.depth("shared-dlq") == 1)).as("SQS moved p1 to shared-dlq").isTrue();
            sqs.client.sendMessage(b -> b.queueUrl(sqs.url("shared-dlq")).messageBody("for-orders").messageAttributes(
                    Map.of(DeadLetterAttributes.REASON, text("HTTP 500"), DeadLetterAttributes.SOURCE, text("orders"))));
            var env = configFor(sqs, dir.resolve("orders.yaml"), "{kind: memory}",
                    "orders: {sqs: {queue: orders}, format: raw}");

            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders", "--native"},
                    out, err, env::get)).as(out + " " + err).isEqualTo(2);
            assertThat(err.toString()).contains("the dead letters of other queues too").contains("(payments)")
                    .contains("--with-other-queues");
            assertThat(sqs.depth("orders")).as("nothing moved into orders").isZero();
            assertThat(sqs.depth("shared-dlq")).isEqualTo(2);
        }
    }

    /**
     * A review: a redrive to orders run while another reader (a redrive to payments, a dry run) held the letters of
     * shared-dlq out of sight received none of them and said only "moved 0", exit 0; they came back after it, left to
     * retention. It notes now about how many another reader hid — a note: exit 0 still.
     */
    @Test
    void aRedriveWhileAnotherReaderHidesTheLettersOfItsDlq_notesHowMany(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            var env = sharedDeadLetterQueue(sqs, dir);
            var held = new java.util.ArrayList<Message>();
            for (int i = 0; i < 10 && held.size() < 3; i++) { // another reader: each hidden for ten minutes
                held.addAll(sqs.client.receiveMessage(b -> b.queueUrl(sqs.url("shared-dlq")).maxNumberOfMessages(10)
                        .waitTimeSeconds(1).visibilityTimeout(600)).messages());
            }
            assertThat(held).hasSize(3);

            assertThat(Ferry.run(new String[] {"queues", "redrive", "--from", "shared-dlq", "--to", "orders"}, out, err,
                    env::get)).as("a note, not a failure: " + out + err).isZero();
            assertThat(out.toString()).contains("moved 0 message(s) from shared-dlq to orders")
                    .contains("about 3 of the letters in shared-dlq were hidden by another reader (another redrive, a dry "
                            + "run): run it again once it ends");
        }
    }

    @Test
    void aQueuesOwnPolicy_isLeftAsItIs_unlessReplaceSaysSo() {
        // replaced, what it allowed was refused from then on: an SNS subscription's deliveries (sns+mturk) stopped, silently
        // (ElasticMQ keeps no policy, so the command's run against it cannot show this: its decision is tested here)
        String mturk = dev.ferry.adapters.sqs.SqsQueues.mturkSendPolicy("arn:aws:sqs:us-east-1:000000000000:orders");
        String sns = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"}}]}";
        assertThat(QueueCommands.AllowMturk.leftAsItIs(sns, mturk, false)).isTrue();
        assertThat(QueueCommands.AllowMturk.leftAsItIs(sns, mturk, true)).as("--replace").isFalse();
        assertThat(QueueCommands.AllowMturk.leftAsItIs(null, mturk, false)).as("none yet").isFalse();
        assertThat(QueueCommands.AllowMturk.leftAsItIs(mturk, mturk, false)).as("MTurk's already: set again").isFalse();
    }

    /**
     * Queues orders and payments, both with shared-dlq as their dead-letter queue; in it a dead letter of each, named as
     * Ferry names them, and one that names no queue (a producer sent it there); and the environment of a config file
     * reading orders.
     */
    private static java.util.Map<String, String> sharedDeadLetterQueue(LocalSqs sqs, Path dir) throws java.io.IOException {
        var queues = SqsQueues.of(sqs.client);
        for (var name : java.util.List.of("orders", "payments")) {
            queues.create(new SqsQueues.QueueSpec(name, false, java.time.Duration.ofSeconds(30), java.time.Duration.ZERO,
                    "shared-dlq", 5));
        }
        assertThat(queues.deadLetterSourceQueues(sqs.url("shared-dlq"))).hasSize(2);
        for (var from : java.util.List.of("orders", "payments")) {
            sqs.client.sendMessage(b -> b.queueUrl(sqs.url("shared-dlq")).messageBody("for-" + from).messageAttributes(
                    java.util.Map.of(DeadLetterAttributes.REASON, text("HTTP 500"), DeadLetterAttributes.SOURCE, text(from))));
        }
        sqs.send("shared-dlq", "from-nowhere");
        var env = configFor(sqs, dir.resolve("orders.yaml"), "{kind: memory}",
                "orders: {sqs: {queue: orders}, format: raw}");
        return env;
    }

    /**
     * The environment of a config file written at {@code file}: the local SQS, the {@code ledger} given, the one
     * {@code source} given (its YAML line) and a log sink every event is routed to.
     */
    static HashMap<String, String> configFor(LocalSqs sqs, Path file, String ledger, String source)
            throws java.io.IOException {
        Files.writeString(file, """
                aws: {region: us-east-1, endpoint: "${AWS_ENDPOINT_URL}"}
                ledger: %s
                sources:
                  %s
                sinks:
                  log: {type: log}
                routes:
                  - to: [log]
                """.formatted(ledger, source));
        var env = new HashMap<>(System.getenv());
        env.putAll(sqs.env());
        env.put("FERRY_CONFIG", file.toString());
        return env;
    }

    private static MessageAttributeValue text(String value) {
        return MessageAttributeValue.builder().dataType("String").stringValue(value).build();
    }

    /**
     * A queue {@code source} and a queue {@code dlq} holding {@code count} dead letters, and the environment of a
     * config file with {@code source} as its one source.
     */
    private static java.util.Map<String, String> deadLettersBeside(LocalSqs sqs, Path dir, String dlq, String source, int count)
            throws java.io.IOException {
        sqs.client.createQueue(b -> b.queueName(dlq));
        sqs.client.createQueue(b -> b.queueName(source));
        for (int i = 0; i < count; i++) {
            sqs.send(dlq, "dead-" + i);
        }
        var env = configFor(sqs, dir.resolve(source + ".yaml"), "{kind: memory}",
                source + ": {sqs: {queue: " + source + "}, format: raw}");
        return env;
    }

    /**
     * A review: a source reading another account's queue by its URL made a look-alike orders, and orders-dlq, in the
     * caller's account (CreateQueue takes a name alone), printed that URL and exited 0 — the operator took the queue
     * for one with its DLQ, while the run read the other account's. It is refused, nothing made for it; a URL of the
     * caller's own account, the account a queue made here shows, is made as before.
     */
    @Test
    void createOfAQueueNamedByAnotherAccountsUrl_isRefused_nothingMadeForIt(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) { // ElasticMQ's account: 000000000000
            String elsewhere = "http://127.0.0.1:" + sqs.port + "/123456789012/orders";
            var mixed = configFor(sqs, dir.resolve("mixed.yaml"), "{kind: memory}", String.join("\n  ",
                    "orders: {sqs: {queue: \"" + elsewhere + "\"}, format: raw}",
                    "payments: {sqs: {queue: \"http://127.0.0.1:" + sqs.port + "/000000000000/payments\"}, format: raw}",
                    "mine: {sqs: {queue: mine}, format: raw}"));

            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, mixed::get)).as(out + " " + err).isEqualTo(2);

            assertThat(out.toString()).contains("/000000000000/mine (dead letters: ")
                    .contains("/000000000000/payments (dead letters: ").doesNotContain("/orders");
            assertThat(err.toString()).contains("source 'orders': queue " + elsewhere + " belongs to account 123456789012")
                    .contains("not to 000000000000").contains("nothing created for it; make it, and its DLQ, in account "
                            + "123456789012");
            assertThat(sqs.client.listQueues().queueUrls()).extracting(url -> url.substring(url.lastIndexOf('/') + 1))
                    .as("neither orders nor its DLQ made").containsExactlyInAnyOrder("mine", "mine-dlq", "payments",
                            "payments-dlq");
        }
    }

    @Test // a review of the refusal: a partner's queue that is there (a sink writing to it) failed every run of the
          // command, a deploy's `&& ferry run` never ran; ElasticMQ's /queue/NAME form was read as account "queue"
    void createOfAnotherAccountsQueueThatIsThere_orOfAUrlNamingNoAccount_isNotRefused(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            sqs.client.createQueue(b -> b.queueName("partner"));
            String partner = "http://127.0.0.1:" + sqs.port + "/123456789012/partner";
            var env = configFor(sqs, dir.resolve("tee.yaml"), "{kind: memory}", String.join("\n  ",
                    "partner: {sqs: {queue: \"" + partner + "\"}, format: raw}",
                    "old: {sqs: {queue: \"http://127.0.0.1:" + sqs.port + "/queue/old\"}, format: raw}"));

            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, env::get)).as(out + " " + err).isZero();

            assertThat(out.toString()).contains("source 'partner': queue " + partner + " of account 123456789012 is "
                    + "there: not made here").contains("/000000000000/old (dead letters: ");
            assertThat(sqs.client.listQueues().queueUrls()).extracting(url -> url.substring(url.lastIndexOf('/') + 1))
                    .containsExactlyInAnyOrder("partner", "old", "old-dlq");
        }
    }

    /**
     * A review: whether another account's queue is there was asked once, and any failure taken for "not there, or not
     * ours" — SQS failing (5xx) or throttling until the SDK's retries ran out refused a partner's queue that was there:
     * "make it, and its DLQ, in account 123456789012", exit 2, advice to make what exists. SQS said nothing of the queue:
     * the command fails saying so, exit 1, nothing made or refused for it.
     */
    @Test
    void createOfAnotherAccountsQueue_whenSqsCannotBeAskedWhetherItIsThere_failsSayingSo_notThatItIsElsewhere(@TempDir Path dir)
            throws Exception {
        try (var sqs = new LocalSqs()) {
            sqs.client.createQueue(b -> b.queueName("partner")); // there, and listed: the caller's account is told by it
            String partner = "http://127.0.0.1:" + sqs.port + "/123456789012/partner";
            var env = configFor(sqs, dir.resolve("partner.yaml"), "{kind: memory}",
                    "partner: {sqs: {queue: \"" + partner + "\"}, format: raw}");
            for (var fault : List.of("503 ServiceUnavailable", "400 RequestThrottled")) {
                out.reset();
                err.reset();
                int exit;
                try (var front = new FailingFront(sqs, "/123456789012/partner", fault)) {
                    env.put("AWS_ENDPOINT_URL", front.endpoint());
                    exit = Ferry.run(new String[] {"queues", "create"}, out, err, env::get);
                }
                assertThat(exit).as(fault + ": " + out + " " + err).isEqualTo(1);
                assertThat(err.toString()).as(fault).contains("source 'partner': SQS could not be asked whether queue "
                        + partner + " of account 123456789012 is there").doesNotContain("make it, and its DLQ");
            }
            assertThat(sqs.client.listQueues().queueUrls()).extracting(url -> url.substring(url.lastIndexOf('/') + 1))
                    .as("nothing made for it").containsExactly("partner");
        }
    }

    /**
     * A server on 127.0.0.1 in front of ElasticMQ that answers every GetQueueAttributes of the queue whose URL ends in
     * {@code queue} with {@code fault} ("503 ServiceUnavailable": SQS failing; "400 RequestThrottled": SQS throttling),
     * and passes every other call on: for the client a command builds itself from {@code AWS_ENDPOINT_URL}.
     */
    private static final class FailingFront implements AutoCloseable {

        private final HttpServer server;
        private final HttpClient passing = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();

        FailingFront(LocalSqs sqs, String queue, String fault) throws java.io.IOException {
            int status = Integer.parseInt(fault.substring(0, 3));
            byte[] refusal = ("{\"__type\":\"com.amazonaws.sqs#" + fault.substring(4) + "\",\"message\":\"injected\"}")
                    .getBytes(StandardCharsets.UTF_8);
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            server.createContext("/", exchange -> {
                try (exchange) {
                    byte[] body = exchange.getRequestBody().readAllBytes();
                    var headers = exchange.getRequestHeaders();
                    String asked = new String(body, StandardCharsets.UTF_8).replace("\\/", "/");
                    if (String.valueOf(headers.getFirst("X-Amz-Target")).endsWith(".GetQueueAttributes")
                            && asked.contains(queue + "\"")) {
                        answer(exchange, status, "application/x-amz-json-1.0", refusal);
                        return;
                    }
                    var request = HttpRequest.newBuilder(URI.create(sqs.endpoint() + exchange.getRequestURI()))
                            .timeout(Duration.ofSeconds(10))
                            .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
                    for (var name : List.of("Content-Type", "X-Amz-Target", "X-Amz-Date", "Authorization", "x-amzn-query-mode")) {
                        String value = headers.getFirst(name);
                        if (value != null) {
                            request.header(name, value);
                        }
                    }
                    var passed = passing.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
                    passed.headers().firstValue("x-amzn-query-error")
                            .ifPresent(code -> exchange.getResponseHeaders().set("x-amzn-query-error", code));
                    answer(exchange, passed.statusCode(), passed.headers().firstValue("Content-Type")
                            .orElse("application/x-amz-json-1.0"), passed.body());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            server.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        private static void answer(HttpExchange exchange, int status, String type, byte[] body) throws java.io.IOException {
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
        }

        @Override
        public void close() {
            server.stop(0);
            passing.close();
        }
    }

    @Test // with nothing to tell the caller's account by (no queue listed), a queue named by its URL is made, then
          // weighed: one of the caller's own account is fine, another account's look-alike is said, exit 2
    void createOfAnotherAccountsQueue_withTheCallersAccountUntold_saysWhatItMade(@TempDir Path dir) throws Exception {
        try (var sqs = new LocalSqs()) {
            String elsewhere = "http://127.0.0.1:" + sqs.port + "/123456789012/orders";
            var env = configFor(sqs, dir.resolve("orders.yaml"), "{kind: memory}",
                    "orders: {sqs: {queue: \"" + elsewhere + "\"}, format: raw}");

            int exit = Ferry.run(new String[] {"queues", "create"}, out, err, env::get);

            assertThat(exit).as(out + " " + err).isEqualTo(2);
            assertThat(err.toString()).contains("source 'orders': queue " + elsewhere + " belongs to account 123456789012")
                    .contains("in account 000000000000").contains("not the queue the config reads");
        }
        try (var sqs = new LocalSqs()) {
            out.reset();
            err.reset();
            var own = configFor(sqs, dir.resolve("own.yaml"), "{kind: memory}",
                    "orders: {sqs: {queue: \"http://127.0.0.1:" + sqs.port + "/000000000000/orders\"}, format: raw}");

            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, own::get)).as(out + " " + err).isZero();
            assertThat(out.toString()).contains("/000000000000/orders (dead letters: ");
        }
    }
}
