package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The order a release sends a parked group back in (ElasticMQ), when the dead-letter queue's order is not the group's:
 * a message the producer sent while a release was closing was parked behind the release's copies, and one of those
 * copies then failed again and became the new head — dead-lettered after it. Sent in the queue's order, the newer
 * message ran before the older ones. And a dropped head's event: none of its dead letters goes back, to run late.
 */
@ExtendWith(ElasticMq.class)
class ParkedGroupOrderIT {

    private final software.amazon.awssdk.services.sqs.SqsClient sqs = ElasticMq.client();

    private String fifo(String prefix) {
        String name = ElasticMq.uniqueName(prefix, true);
        return sqs.createQueue(b -> b.queueName(name).attributes(Map.of(QueueAttributeName.FIFO_QUEUE, "true"))).queueUrl();
    }

    /** Group A parked at a2, {@code count} parked, nothing sent back yet by the release of token t-2. */
    private static ParkedGroup parkedAtA2(long count) {
        return new ParkedGroup("orders", "A", "a2", "m-2", "HTTP 400", Instant.EPOCH, Instant.EPOCH, count, 0, "t-2", 0, 0,
                false, 3);
    }

    private void deadLetter(String dlq, String body, String reason, String releaseMark) {
        var values = new HashMap<String, MessageAttributeValue>();
        values.put(DeadLetterAttributes.REASON, MessageAttributeValue.builder().dataType("String").stringValue(reason).build());
        if (releaseMark != null) {
            values.put(GroupParker.RELEASE_ATTRIBUTE, MessageAttributeValue.builder().dataType("String")
                    .stringValue(releaseMark).build());
        }
        sqs.sendMessage(b -> b.queueUrl(dlq).messageBody(body).messageGroupId("A").messageDeduplicationId(body)
                .messageAttributes(values));
    }

    private List<String> sourceBodies(String queue) {
        return sourceMessages(queue).stream().map(Message::body).toList();
    }

    /** What {@code queue} holds, in order, with every attribute, each deleted once read (as a listener that handled it). */
    private List<Message> sourceMessages(String queue) {
        var messages = new ArrayList<Message>();
        for (int i = 0; i < 10; i++) { // bounded: a FIFO queue gives a group's messages as those before are deleted
            var got = sqs.receiveMessage(b -> b.queueUrl(queue).maxNumberOfMessages(10).waitTimeSeconds(1)
                    .messageAttributeNames("All").messageSystemAttributeNames(MessageSystemAttributeName.ALL)).messages();
            if (got.isEmpty()) {
                break;
            }
            for (var m : got) {
                messages.add(m);
                sqs.deleteMessage(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()));
            }
        }
        return messages;
    }

    /** {@code m}, read from {@code queue}, dead-lettered to {@code dlq} with {@code reason} as the listener writes it. */
    private void deadLetteredByTheListener(String queue, String dlq, Message m, String reason) {
        String queueName = queue.substring(queue.lastIndexOf('/') + 1);
        var delivery = new ReceivedMessages("orders", queueName, SqsQueues.of(sqs).describe(queue).arn(), Clock.systemUTC(),
                true, Set.of()).toDelivery(m, System.nanoTime(), true);
        var attributes = MessageAttributes.forDeadLetter(m.messageAttributes(), reason, queueName, "orders", 1,
                DeadLetterCopies.identity(delivery));
        sqs.sendMessage(b -> b.queueUrl(dlq).messageBody(m.body()).messageGroupId("A").messageDeduplicationId("dlq-"
                + m.messageId()).messageAttributes(attributes));
    }

    @Test
    void theHeadGoesFirst_thenTheEarlierReleasesCopies_thenWhatTheProducerSent_inTheirOrder() {
        String queue = fifo("orders");
        String dlq = fifo("orders-dlq");
        var parked = parkedAtA2(4);
        // a4 reached the listener ahead of the release's copies and was parked; a2's copy failed again (the new head);
        // a3's copy then waited behind it; a5 came later
        deadLetter(dlq, "a4", GroupParker.behind(parked), null);
        deadLetter(dlq, "a2", GroupParker.at(parked), "t-1#1");
        deadLetter(dlq, "a3", GroupParker.behind(parked), "t-1#2");
        deadLetter(dlq, "a5", GroupParker.behind(parked), null);

        var moved = SqsQueues.of(sqs).parkedGroupMover(dlq, queue).move(parked, "t-2", false);

        assertThat(moved.problem()).isNull();
        assertThat(moved.counted()).isEqualTo(4);
        assertThat(moved.redriven()).isEqualTo(4);
        assertThat(sourceBodies(queue)).containsExactly("a2", "a3", "a4", "a5");
        assertThat(sqs.receiveMessage(b -> b.queueUrl(dlq).maxNumberOfMessages(10).waitTimeSeconds(1)).messages())
                .as("nothing left behind, nothing copied twice").isEmpty();
    }

    @Test
    void aHeadNoLongerInTheQueue_leavesTheRestToGoInTheirOrder() {
        String queue = fifo("orders");
        String dlq = fifo("orders-dlq");
        var parked = parkedAtA2(3);
        deadLetter(dlq, "a3", GroupParker.behind(parked), null); // a2, the head, deleted by the queue's retention
        deadLetter(dlq, "a4", GroupParker.behind(parked), null);

        var moved = SqsQueues.of(sqs).parkedGroupMover(dlq, queue).move(parked, "t-2", false);

        assertThat(moved.problem()).isNull();
        assertThat(moved.counted()).as("the head not among them: the release's count says so").isEqualTo(2);
        assertThat(sourceBodies(queue)).containsExactly("a3", "a4");
    }
    @Test // a second review: a message let through a drained group failed and became its new head while a move ran; the
          // move, knowing the old head, sent its dead letter back under the old release's token (out of its order)
    void aBatchReadAfterTheGroupWasParkedBehindANewHead_isNotSentBack() {
        String queue = fifo("orders");
        String dlq = fifo("orders-dlq");
        var stale = parkedAtA2(3); // what the move began with; meanwhile a9 failed and is the head
        var now = new ParkedGroup("orders", "A", "a9", "m-9", "HTTP 400", Instant.EPOCH, Instant.EPOCH, 4, 3, null, 0, 0,
                false, 9);
        deadLetter(dlq, "a9", GroupParker.at(now), null);

        var moved = SqsQueues.of(sqs).parkedGroupMover(dlq, queue).move(stale, "t-2", false, new GroupParker.Progress() {
            @Override
            public void movedSoFar(long counted, long redriven) {
            }

            @Override
            public boolean stillReleasing() {
                return false;
            }
        });

        assertThat(moved.problem()).contains("parked again behind a new head");
        assertThat(moved.counted()).isZero();
        assertThat(sourceBodies(queue)).as("nothing sent back").isEmpty();
        assertThat(sqs.receiveMessage(b -> b.queueUrl(dlq).maxNumberOfMessages(10).waitTimeSeconds(1)).messages())
                .extracting(software.amazon.awssdk.services.sqs.model.Message::body).as("a9 waits, visible").containsExactly("a9");
    }

    @Test // a review of the twenty-seventh round: the store down past the read's retries left the batch invisible two minutes
    void aBatchWhoseStillReleasingReadFails_isVisibleAgainAtOnce() {
        String queue = fifo("orders");
        String dlq = fifo("orders-dlq");
        var parked = parkedAtA2(3);
        deadLetter(dlq, "a2", GroupParker.at(parked), null);
        deadLetter(dlq, "a3", GroupParker.behind(parked), null);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SqsQueues.of(sqs).parkedGroupMover(dlq, queue).move(parked,
                "t-2", false, new GroupParker.Progress() {
                    @Override
                    public void movedSoFar(long counted, long redriven) {
                    }

                    @Override
                    public boolean stillReleasing() {
                        throw new IllegalStateException("the ledger is down (injected)");
                    }
                })).hasMessageContaining("the ledger is down");

        assertThat(sourceBodies(queue)).as("nothing sent back").isEmpty();
        assertThat(sqs.receiveMessage(b -> b.queueUrl(dlq).maxNumberOfMessages(10).waitTimeSeconds(1)).messages())
                .extracting(software.amazon.awssdk.services.sqs.model.Message::body).as("visible again, in order")
                .containsExactly("a2", "a3");
    }

    @Test // a second review: a put-back that failed let the rest of its batch go, head first, and the next move (which
          // knows nothing of what was to go behind it) sent what stayed in front ahead of the older copies
    void aPutBackThatFails_movesNothingOfItsBatch_andTheNextMoveKeepsTheOrder() {
        String queue = fifo("orders");
        String dlq = fifo("orders-dlq");
        var parked = parkedAtA2(3);
        deadLetter(dlq, "a4", GroupParker.behind(parked), null);
        deadLetter(dlq, "a2", GroupParker.at(parked), "t-1#1");
        deadLetter(dlq, "a3", GroupParker.behind(parked), "t-1#2");
        var failOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
        var flaky = ElasticMq.clientWith(new software.amazon.awssdk.core.interceptor.ExecutionInterceptor() {
            @Override
            public void beforeExecution(software.amazon.awssdk.core.interceptor.Context.BeforeExecution context,
                                        software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
                if (context.request() instanceof software.amazon.awssdk.services.sqs.model.SendMessageRequest r
                        && r.queueUrl().equals(dlq) && failOnce.getAndSet(false)) {
                    throw software.amazon.awssdk.core.exception.SdkClientException.create("throttled (injected)");
                }
            }
        });

        var first = SqsQueues.of(flaky).parkedGroupMover(dlq, queue).move(parked, "t-2", false);
        assertThat(first.problem()).contains("putting message").contains("release it again");
        assertThat(first.redriven()).as("nothing of the batch went").isZero();

        var second = SqsQueues.of(flaky).parkedGroupMover(dlq, queue).move(parked, "t-2", false);
        assertThat(second.problem()).isNull();
        assertThat(sourceBodies(queue)).containsExactly("a2", "a3", "a4");
    }

    @Test // a review: a release whose deletes failed left r1..r5's dead letters beside the copies it sent; r3's copy
          // failed again and headed the group, and the release that dropped it (--skip-head) dropped only its "at r3"
          // letter — r3's earlier one (parked behind r1) went back after r4 and r5: the dropped poison ran again, out of
          // its order
    void aDroppedHead_takesTheEarlierDeadLetterOfItsEventWithIt() {
        String queue = fifo("orders");
        String dlq = fifo("orders-dlq");
        String queueName = queue.substring(queue.lastIndexOf('/') + 1);
        var atR1 = new ParkedGroup("orders", "A", "r1", "m-1", "HTTP 400", Instant.EPOCH, Instant.EPOCH, 5, 0, "t-1", 0, 0,
                false, 2);
        for (int i = 1; i <= 5; i++) { // as the listener wrote them: r1 the head, the rest behind it, each with its identity
            String body = "r" + i;
            String reason = i == 1 ? GroupParker.at(atR1) : GroupParker.behind(atR1);
            var attributes = MessageAttributes.forDeadLetter(Map.of(), reason, queueName, "orders", 1, "id-" + body);
            sqs.sendMessage(b -> b.queueUrl(dlq).messageBody(body).messageGroupId("A").messageDeduplicationId(body)
                    .messageAttributes(attributes));
        }
        // the first release sends r1..r5 back, and every DeleteMessageBatch of its dead letters fails: they stay, visible
        // again once it is over
        var held = new CopyOnWriteArrayList<String>();
        try (var deletesFail = ElasticMq.clientWith(new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof DeleteMessageBatchRequest r && r.queueUrl().equals(dlq)) {
                    r.entries().forEach(e -> held.add(e.receiptHandle()));
                    throw SdkClientException.create("no answer (injected)");
                }
            }
        })) {
            var first = SqsQueues.of(deletesFail).parkedGroupMover(dlq, queue).move(atR1, "t-1", false);
            assertThat(first.redriven()).isEqualTo(5);
            assertThat(first.problem()).contains("could not be deleted");
        }
        held.forEach(h -> sqs.changeMessageVisibility(b -> b.queueUrl(dlq).receiptHandle(h).visibilityTimeout(0)));

        // the listener: r1 and r2 done; r3 fails again and heads the group, r4 and r5 are parked behind it
        var copies = sourceMessages(queue);
        assertThat(copies).extracting(Message::body).containsExactly("r1", "r2", "r3", "r4", "r5");
        var atR3 = new ParkedGroup("orders", "A", "r3", copies.get(2).messageId(), "HTTP 400", Instant.EPOCH, Instant.EPOCH,
                8, 5, "t-2", 0, 0, false, 4); // as the operator's release (t-2) begins
        deadLetteredByTheListener(queue, dlq, copies.get(2), GroupParker.at(atR3));
        deadLetteredByTheListener(queue, dlq, copies.get(3), GroupParker.behind(atR3));
        deadLetteredByTheListener(queue, dlq, copies.get(4), GroupParker.behind(atR3));

        var second = SqsQueues.of(sqs).parkedGroupMover(dlq, queue).move(atR3, "t-2", true); // --skip-head --head r3

        assertThat(second.problem()).isNull();
        assertThat(second.counted()).as("r1..r5's dead letters and r3..r5's").isEqualTo(8);
        assertThat(second.counted() - second.redriven()).as("both of r3's dropped").isEqualTo(2);
        assertThat(sourceBodies(queue)).as("r4 and r5 first; then r1, r2, r4 and r5 again, which the ledger drops (done); "
                + "r3 never").containsExactly("r4", "r5", "r1", "r2", "r4", "r5");
        assertThat(sqs.receiveMessage(b -> b.queueUrl(dlq).maxNumberOfMessages(10).waitTimeSeconds(1)).messages())
                .as("nothing of r3 left to go back later").isEmpty();
    }
}
