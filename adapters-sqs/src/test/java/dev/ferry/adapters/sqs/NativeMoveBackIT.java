package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * {@code ferry queues redrive --native} (SQS's own message move task, the console's "start DLQ redrive") moves a dead
 * letter back as it is: a new message, its attributes kept, no mark of a redrive. Keyed by its message id (FIFO: its
 * deduplication id {@code dlq-<id>}), it was a new event, and every sink the message had reached was written again.
 */
@ExtendWith(ElasticMq.class)
class NativeMoveBackIT {

    /** The next message the source hands out, within ten receives of a second. */
    private static Delivery next(SqsFixture q) {
        for (int i = 0; i < 10; i++) {
            var got = q.source().poll(new PollRequest(1, Duration.ofSeconds(1), Duration.ofSeconds(60)));
            if (!got.isEmpty()) {
                return got.getFirst();
            }
        }
        throw new AssertionError("nothing came to " + q.url + " within ten receives");
    }

    /** SQS's move task from the DLQ back to the queue its messages came from, as the native redrive starts it; to its end. */
    private static void moveBack(SqsFixture q, String dlqArn) {
        q.queues.startMoveTask(dlqArn, null, 0);
        assertThat(Await.until(Duration.ofSeconds(10), () -> q.queues.latestMoveTask(dlqArn)
                .map(SqsQueues.MoveTask::finished).orElse(false))).as("the move task ended").isTrue();
    }

    @Test
    void aDeadLetterSqsMovedBackItself_isTheSameEventItWasBeforeItsDeadLettering_andIsDeadLetteredAgainAsItself() {
        try (var q = SqsFixture.create(ElasticMq.client(), false, 1000)) {
            String dlqArn = q.queues.describe(q.dlqUrl).arn();
            q.send("{\"plain\": true}", Map.of("color", "blue"), null);
            var first = next(q);
            assertThat(first.deduplicationId()).as("a standard queue's message is keyed by its message id").isNull();
            String identity = first.id();
            assertThat(q.source().settle(List.of(new Settlement(first, Disposition.deadLetter("sink B said 400")))))
                    .isEmpty();

            for (int round = 0; round < 2; round++) { // moved back, dead-lettered again, moved back again: the same event
                moveBack(q, dlqArn);
                var back = next(q);
                assertThat(back.id()).as("a new SQS message").isNotEqualTo(first.id());
                assertThat(back.deduplicationId()).as("round %d", round).isEqualTo(identity);
                assertThat(back.attributes()).containsEntry("color", "blue");
                assertThat(q.source().settle(List.of(new Settlement(back, Disposition.deadLetter("still 400, " + round)))))
                        .isEmpty();
            }

            // its new dead letter: Ferry's attributes replaced by this dead-lettering's, none doubled or folded away
            var deadLetters = q.deadLetterMessages();
            assertThat(deadLetters).hasSize(1);
            var attributes = deadLetters.getFirst().messageAttributes();
            assertThat(attributes.keySet()).containsExactlyInAnyOrder(DeadLetterAttributes.REASON, DeadLetterAttributes.SOURCE,
                    DeadLetterAttributes.RECEIVE_COUNT, MessageAttributes.DEAD_LETTER_ORIGIN, "color");
            assertThat(attributes.get(DeadLetterAttributes.REASON).stringValue()).isEqualTo("still 400, 1");
            assertThat(attributes.get(MessageAttributes.DEAD_LETTER_ORIGIN).stringValue()).isEqualTo(identity);
        }
    }

    /**
     * FIFO, where a dead letter's deduplication id is {@code dlq-<id>}. ElasticMQ's move task moves nothing out of a
     * FIFO queue (it takes from a list its FIFO queues do not fill), so the dead letter is moved here as SQS's task
     * moves it: its body, attributes, group and deduplication id sent to the queue, then deleted from the DLQ.
     */
    @Test
    void aFifoDeadLetterMovedBackAsItIs_isTheSameEventItWasBeforeItsDeadLettering() {
        try (var q = SqsFixture.create(ElasticMq.client(), true, 1000)) {
            q.client.sendMessage(b -> b.queueUrl(q.url).messageBody("{\"plain\": true}").messageGroupId("g")
                    .messageDeduplicationId("order-42"));
            var first = next(q);
            assertThat(first.deduplicationId()).isEqualTo("order-42");
            assertThat(q.source().settle(List.of(new Settlement(first, Disposition.deadLetter("sink B said 400")))))
                    .isEmpty();
            var deadLetters = q.deadLetterMessages();
            assertThat(deadLetters).hasSize(1);
            var deadLetter = deadLetters.getFirst();

            q.client.sendMessage(b -> b.queueUrl(q.url).messageBody(deadLetter.body())
                    .messageAttributes(deadLetter.messageAttributes())
                    .messageGroupId(deadLetter.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID))
                    .messageDeduplicationId(deadLetter.attributes().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID)));
            q.client.deleteMessage(b -> b.queueUrl(q.dlqUrl).receiptHandle(deadLetter.receiptHandle()));

            var back = next(q);
            assertThat(back.id()).isNotEqualTo(first.id());
            assertThat(back.attributes()).as("moved as the dead letter it was")
                    .containsEntry("MessageDeduplicationId", "dlq-" + first.id());
            assertThat(back.deduplicationId()).isEqualTo("order-42");
        }
    }

    /**
     * A producer's own attributes of those names, naming another queue (as a dead letter read from its DLQ, moved to
     * another queue or relayed does) or none, make no two of its messages one event: each keeps its own identity.
     */
    @Test
    void aDeadLettersOriginNamingAnotherQueue_isNotTrusted_eachMessageKeepsItsOwnIdentity() {
        try (var q = SqsFixture.create(ElasticMq.client(), false, 1000)) {
            var forged = Map.of(MessageAttributes.DEAD_LETTER_ORIGIN, "same", DeadLetterAttributes.SOURCE, "payments",
                    DeadLetterAttributes.REASON, "hand-written");
            q.send("a", forged, null);
            q.send("b", forged, null);
            q.send("c", Map.of(MessageAttributes.DEAD_LETTER_ORIGIN, "same"), null); // no queue named at all
            var got = new ArrayList<Delivery>();
            for (int i = 0; i < 10 && got.size() < 3; i++) {
                got.addAll(q.source().poll(new PollRequest(10, Duration.ofSeconds(1), Duration.ofSeconds(60))));
            }
            assertThat(got).hasSize(3).allSatisfy(d -> assertThat(d.deduplicationId()).isNull());
        }
    }
}
