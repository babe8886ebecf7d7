package dev.ferry.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSource;
import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.testing.Await;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.junit.jupiter.api.Test;

/**
 * The README's "Embedding Ferry" code, run as written against a real SQS server: a library user's
 * handler on an SQS queue, MTurk documents decoded, duplicates dropped, a refusal dead-lettered.
 */
class EmbeddingIT {

    @Test
    void theReadmeHandler_runsOnARealQueue() {
        var server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        int port = server.waitUntilStarted().localAddress().getPort();
        var charged = new CopyOnWriteArrayList<String>();
        try (var sqs = SqsClients.builder().endpoint(URI.create("http://127.0.0.1:" + port)).staticCredentials("x", "x").build()) {
            var created = SqsQueues.of(sqs).create(SqsQueues.QueueSpec.withDeadLetterQueue("assignments", 1000));

            // --- README: Embedding Ferry ---
            var source = SqsSource.builder(sqs, "assignments").build();   // the queue's DLQ from its redrive policy
            Handler handler = (event, delivery) -> {
                if (event.attribute("AssignmentId").isEmpty()) {
                    return Outcome.reject("no AssignmentId in " + event.type()); // to the DLQ, with this reason
                }
                charged.add(event.attribute("AssignmentId").get());         // your code here
                return Outcome.done();                 // or retry(reason), throttled(after)
            };
            var listener = Listener.builder(source, Codecs.mturk(JsonLimits.defaults()), handler) // Codecs.raw() for plain bodies
                    .ledger(InMemoryLedger.create())     // an MVStore or DynamoDB ledger survives restarts
                    .config(ListenerConfig.builder().pollers(2).pollWait(Duration.ofSeconds(5)).lease(Duration.ofSeconds(30)).build())
                    .build().start();
            // --- end ---

            String doc = "{\"EventDocVersion\":\"2014-08-15\",\"EventDocId\":\"%s\",\"CustomerId\":\"C\",\"Events\":[{"
                    + "\"EventType\":\"%s\",\"EventTimestamp\":\"2026-11-23T10:00:00Z\",\"HITTypeId\":\"T\",\"HITId\":\"H\"%s}]}";
            sqs.sendMessage(b -> b.queueUrl(created.url()).messageBody(doc.formatted("d1", "AssignmentSubmitted", ",\"AssignmentId\":\"A1\"")));
            sqs.sendMessage(b -> b.queueUrl(created.url()).messageBody(doc.formatted("d1", "AssignmentSubmitted", ",\"AssignmentId\":\"A1\"")));
            sqs.sendMessage(b -> b.queueUrl(created.url()).messageBody(doc.formatted("d2", "HITExpired", "")));
            assertThat(Await.until(Duration.ofSeconds(20), () -> listener.stats().settled() == 3)).as(listener.stats().line()).isTrue();
            var report = listener.stop();
            listener.close();  // --- README: closes the source too ---
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> source.poll(
                    new dev.ferry.domain.transport.PollRequest(1, Duration.ZERO, Duration.ofSeconds(30))))
                    .as("closed with the listener").hasMessageContaining("is closed");

            assertThat(charged).containsExactly("A1");
            assertThat(report.stats().duplicatesDropped()).isEqualTo(1);
            var dead = sqs.receiveMessage(b -> b.queueUrl(created.deadLetterQueueUrl()).waitTimeSeconds(2)
                    .messageAttributeNames("All")).messages();
            assertThat(dead).singleElement().satisfies(m -> assertThat(m.messageAttributes().get("ferry.deadLetter.reason")
                    .stringValue()).contains("no AssignmentId in HITExpired"));
        } finally {
            server.stopAndWait();
        }
    }

    @Test
    void anEmbeddingApplication_getsNoDaggerAndNoJavaxInject() {
        for (String name : new String[] {"dagger.Component", "dagger.Module", "javax.inject.Inject"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Class.forName(name)).as(name)
                    .isInstanceOf(ClassNotFoundException.class);
        }
    }
}
