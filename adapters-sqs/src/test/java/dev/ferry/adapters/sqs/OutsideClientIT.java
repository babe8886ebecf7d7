package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Messages sent by real outside clients (the {@code aws} CLI, boto3) are consumed by Ferry: the
 * wire format, attributes and MD5s of another SDK agree with ours. Skipped, saying why, where the
 * client is not installed.
 */
@ExtendWith(ElasticMq.class)
class OutsideClientIT {

    private static final String MTURK_DOC = "{\"EventDocVersion\":\"2014-08-15\",\"EventDocId\":\"doc-cli-1\","
            + "\"CustomerId\":\"A1\",\"Events\":[{\"EventType\":\"AssignmentSubmitted\","
            + "\"EventTimestamp\":\"2026-11-23T10:00:00Z\",\"HITTypeId\":\"T1\",\"HITId\":\"H1\",\"AssignmentId\":\"A9\"}]}";

    @Test
    void awsCli_sendMessage_isConsumedWithItsAttributes() throws Exception {
        assumeTrue(onPath("aws"), "the aws CLI is not installed: skipping the outside-client test");
        try (var q = SqsFixture.create(ElasticMq.client(), false, 1000)) {
            run(List.of("aws", "--endpoint-url", ElasticMq.endpoint().toString(), "sqs", "send-message",
                    "--queue-url", q.url, "--message-body", MTURK_DOC,
                    "--message-attributes", "{\"origin\":{\"DataType\":\"String\",\"StringValue\":\"aws-cli\"},"
                            + "\"n\":{\"DataType\":\"Number\",\"StringValue\":\"5\"}}"));

            var got = receive(q, 1);
            assertThat(got).hasSize(1);
            assertThat(new String(got.getFirst().body(), StandardCharsets.UTF_8)).isEqualTo(MTURK_DOC);
            assertThat(got.getFirst().attributes()).containsEntry("origin", "aws-cli").containsEntry("n", "5");
            assertThat(q.source().stats().md5Mismatches()).isZero();
            assertThat(q.source().settle(List.of(new Settlement(got.getFirst(), Disposition.ACK)))).isEmpty();
        }
    }

    @Test
    void boto3_sendMessageBatch_isConsumed() throws Exception {
        assumeTrue(onPath("python3") && run(List.of("python3", "-c", "import boto3"), false) == 0,
                "python3 with boto3 is not installed: skipping the outside-client test");
        try (var q = SqsFixture.create(ElasticMq.client(), true, 1000)) {
            Path script = Files.createTempFile("ferry-boto3", ".py");
            try {
                Files.writeString(script, """
                        import sys, boto3
                        sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1",
                                           aws_access_key_id="x", aws_secret_access_key="x")
                        entries = [{"Id": str(i), "MessageBody": "boto-%d" % i, "MessageGroupId": "hit-%d" % (i % 2),
                                    "MessageDeduplicationId": "d-%d" % i,
                                    "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v%d" % i}}}
                                   for i in range(6)]
                        r = sqs.send_message_batch(QueueUrl=sys.argv[2], Entries=entries)
                        sys.exit(1 if r.get("Failed") else 0)
                        """);
                run(List.of("python3", script.toString(), ElasticMq.endpoint().toString(), q.url));
            } finally {
                Files.deleteIfExists(script);
            }
            var got = new ArrayList<Delivery>();
            for (int i = 0; i < 20 && got.size() < 6; i++) {
                var batch = q.source().poll(new PollRequest(10, Duration.ofSeconds(1), Duration.ofSeconds(30)));
                got.addAll(batch);
                q.source().settle(batch.stream().map(d -> new Settlement(d, Disposition.ACK)).toList());
            }
            assertThat(got).extracting(d -> new String(d.body(), StandardCharsets.UTF_8))
                    .containsExactlyInAnyOrder("boto-0", "boto-1", "boto-2", "boto-3", "boto-4", "boto-5");
            var hit0 = got.stream().filter(d -> "hit-0".equals(d.groupKey()))
                    .map(d -> new String(d.body(), StandardCharsets.UTF_8)).toList();
            assertThat(hit0).containsExactly("boto-0", "boto-2", "boto-4");
            assertThat(got).allSatisfy(d -> assertThat(d.attributes().get("k")).startsWith("v"));
        }
    }

    private static List<Delivery> receive(SqsFixture q, int count) {
        var got = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && got.size() < count; i++) {
            got.addAll(q.source().poll(new PollRequest(10, Duration.ofSeconds(1), Duration.ofSeconds(30))));
        }
        return got;
    }

    private static boolean onPath(String command) {
        for (var dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        assertThat(run(command, true)).as(String.join(" ", command)).isZero();
    }

    private static int run(List<String> command, boolean show) throws IOException, InterruptedException {
        var pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("AWS_ACCESS_KEY_ID", "x");
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "x");
        pb.environment().put("AWS_DEFAULT_REGION", "us-east-1");
        pb.environment().put("AWS_PAGER", "");
        var process = pb.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        if (show && process.exitValue() != 0) {
            System.err.println(output);
        }
        return process.exitValue();
    }
}
