package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;

/**
 * SQS's KMS refusals as the SDK reads them: a queue encrypted with a KMS key answers a throttled key or a
 * disabled one with a 400 whose code, on SQS's JSON protocol, comes from the {@code x-amzn-query-error}
 * header — {@code KMS.ThrottlingException}, not {@code KmsThrottled}. ElasticMQ has no KMS, so a client's
 * interceptor turns a real server's answer to SendMessageBatch into such a refusal; the SDK's own
 * unmarshalling then makes the exception Ferry sees.
 */
@ExtendWith(ElasticMq.class)
class KmsErrorsIT {

    private final List<AutoCloseable> opened = new ArrayList<>();
    /** The query error code every SendMessageBatch is answered with while set (null: the server's answer). */
    private volatile String refuseWith;
    /** While set, every SendMessageBatch is answered 200 with each entry failed with this code, as the sender's fault. */
    private volatile String refuseEntriesWith;

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
    }

    private SqsClient kmsClient() {
        var client = ElasticMq.clientWith(new ExecutionInterceptor() {
            @Override
            public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
                String code = refuseWith;
                if (code == null || !(context.request() instanceof SendMessageBatchRequest)) {
                    return context.httpResponse();
                }
                return context.httpResponse().toBuilder().statusCode(400).statusText("Bad Request")
                        .putHeader("x-amzn-query-error", code + ";Sender")
                        .putHeader("Content-Type", "application/x-amz-json-1.0").build();
            }

            @Override
            public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context,
                    ExecutionAttributes attributes) {
                String entryCode = refuseEntriesWith;
                if (entryCode != null && context.request() instanceof SendMessageBatchRequest r) {
                    var failed = new StringBuilder();
                    for (var e : r.entries()) { // by the ids the request used
                        failed.append(failed.isEmpty() ? "" : ",").append("{\"Id\":\"").append(e.id()).append("\",\"Code\":\"")
                                .append(entryCode).append("\",\"SenderFault\":true,\"Message\":\"injected\"}");
                    }
                    String body = "{\"Successful\":[],\"Failed\":[" + failed + "]}";
                    return Optional.of(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
                }
                String code = refuseWith;
                if (code == null || !(context.request() instanceof SendMessageBatchRequest)) {
                    return context.responseBody();
                }
                String shape = code.equals("KMS.ThrottlingException") ? "KmsThrottled" : "KmsDisabled";
                String body = "{\"__type\":\"com.amazonaws.sqs#" + shape + "\",\"message\":\"" + code + " (injected)\"}";
                return Optional.of(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
            }
        });
        opened.add(client);
        return client;
    }

    private static Event event(String key) {
        return new Event(key, "Test", null, null, ("payload-" + key).getBytes(StandardCharsets.UTF_8), Map.of());
    }

    @Test
    void aSink_whoseQueuesKmsKeyIsThrottled_waits_andWhoseKeyIsDisabled_waitsItOut_neitherRejectsTheEvent() {
        // the query form of the codes was not known: each was taken for the message's fault and the event dead-lettered.
        // A disabled key answered Retry spent the event's attempts within seconds: waited out as an outage is
        var q = SqsFixture.create(ElasticMq.client(), false, 1000);
        opened.add(q);
        var sink = SqsSink.builder(kmsClient(), q.url).senders(1).build();
        opened.add(sink);

        refuseWith = "KMS.ThrottlingException";
        assertThat(sink.publish(event("e1"))).isInstanceOf(Outcome.Throttled.class);
        refuseWith = "KMS.DisabledException";
        assertThat(sink.publish(event("e2"))).isInstanceOf(Outcome.Throttled.class);
        assertThat(sink.holdingBack()).hasValueSatisfying(p -> assertThat(p).contains("KMS.DisabledException"));
        // the health endpoints show it to anyone who reaches them: SQS's code, not its words (they name the account)
        assertThat(sink.holdingBackInBrief()).hasValueSatisfying(p -> assertThat(p).contains("KMS.DisabledException")
                .doesNotContain("(injected)"));
        refuseWith = null;
        assertThat(sink.publish(event("e3"))).as("the key back").isEqualTo(Outcome.done());
    }

    @Test
    void aDeadLetterCopy_refusedByTheDeadLetterQueuesKmsKey_isOwed_notGivenUp() {
        // given up for good, the dead letter was not owed: the message came back and ran again — on FIFO, after its
        // group's later messages
        var q = SqsFixture.create(kmsClient(), true, 1000);
        opened.add(q);
        q.send("poison", Map.of(), "g");
        var got = q.source().poll(new PollRequest(1, Duration.ofSeconds(5), Duration.ofSeconds(30)));
        assertThat(got).hasSize(1);

        refuseWith = "KMS.ThrottlingException";
        var failures = q.source().settle(List.of(new Settlement(got.getFirst(), Disposition.deadLetter("poison"))));

        assertThat(failures).singleElement().satisfies(f -> assertThat(f.retryable()).as(f.reason()).isTrue());
    }

    @Test
    void aBatchEntryRefusedByTheQueuesKmsKey_isWaitedOut_notRejected_norItsDeadLetterCopyGivenUp() {
        // SQS answers a batch 200 and fails the entry, SenderFault true: taken at its word, a key disabled for a rotation
        // dead-lettered the event, and a dead-letter copy was given up for good
        var client = kmsClient();
        var target = SqsFixture.create(ElasticMq.client(), false, 1000);
        opened.add(target);
        var q = SqsFixture.create(client, false, 1000);
        opened.add(q);
        var sink = SqsSink.builder(client, target.url).senders(1).build();
        opened.add(sink);

        refuseEntriesWith = "KMS.DisabledException";
        assertThat(sink.publish(event("e1"))).isInstanceOf(Outcome.Throttled.class);
        assertThat(sink.holdingBack()).hasValueSatisfying(p -> assertThat(p).contains("KMS.DisabledException"));

        refuseEntriesWith = null;
        q.send("poison", Map.of(), null);
        var got = q.source().poll(new PollRequest(1, Duration.ofSeconds(5), Duration.ofSeconds(30)));
        assertThat(got).hasSize(1);
        refuseEntriesWith = "KMS.AccessDeniedException";
        var failures = q.source().settle(List.of(new Settlement(got.getFirst(), Disposition.deadLetter("poison"))));
        refuseEntriesWith = null;
        assertThat(failures).singleElement().satisfies(f -> assertThat(f.retryable()).as(f.reason()).isTrue());
    }
}
