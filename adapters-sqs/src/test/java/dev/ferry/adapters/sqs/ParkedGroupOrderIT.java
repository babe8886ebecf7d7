package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The order a release sends a parked group back in (ElasticMQ), when the dead-letter queue's order is not the group's:
 * a message the producer sent while a release was closing was parked behind the release's copies, and one of those
 * copies then failed again and became the new head — dead-lettered after it. Sent in the queue's order, the newer
 * message ran before the older ones.
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
        var bodies = new ArrayList<String>();
        for (int i = 0; i < 10; i++) { // bounded: a FIFO queue gives a group's messages as those before are deleted
            var got = sqs.receiveMessage(b -> b.queueUrl(queue).maxNumberOfMessages(10).waitTimeSeconds(1)).messages();
            if (got.isEmpty()) {
                break;
            }
            for (var m : got) {
                bodies.add(m.body());
                sqs.deleteMessage(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()));
            }
        }
        return bodies;
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
}
