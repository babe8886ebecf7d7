package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * What a redrive keeps of its copies that came back into the dead-letter queue (ElasticMQ). It kept the
 * whole messages, up to 10,000 of them: with 256 KiB bodies 2.5 GiB, and the app that runs the console's
 * redrives (1 GiB) died mid-traffic.
 */
@ExtendWith(ElasticMq.class)
class SetAsideCopiesIT {

    private final SqsClient sqs = ElasticMq.client();

    @Test
    void copiesSetAside_keepTheirIdsAndReceiptHandlesOnly_neverTheirBodies() throws InterruptedException {
        String dlq = sqs.createQueue(b -> b.queueName(ElasticMq.uniqueName("redrive-dlq", false))).queueUrl();
        try {
            sqs.sendMessage(b -> b.queueUrl(dlq).messageBody("one"));
            String handle = receive(dlq, 1, 60).getFirst().receiptHandle();
            var copies = new SetAsideCopies(sqs, dlq);

            var body = setAsideThousandCopiesOf256KiB(copies, handle);

            assertThat(copies.size()).isEqualTo(1_000);
            assertThat(copies.retainedChars()).as("ids and receipt handles, not 256 MB of bodies").isLessThan(1_000_000);
            assertThat(collected(body)).as("no copy's body is kept").isTrue();
        } finally {
            sqs.deleteQueue(b -> b.queueUrl(dlq));
        }
    }

    @Test
    void copiesSetAside_areHiddenUntilPutBack_byTheirNewestReceiptHandles_andCountedOnce() {
        String dlq = sqs.createQueue(b -> b.queueName(ElasticMq.uniqueName("redrive-dlq", false))).queueUrl();
        try {
            for (String body : new String[] {"c1", "c2", "c3"}) {
                sqs.sendMessage(b -> b.queueUrl(dlq).messageBody(body));
            }
            var copies = new SetAsideCopies(sqs, dlq);
            assertThat(copies.add(receive(dlq, 3, 1))).isEqualTo(3);
            assertThat(sqs.receiveMessage(b -> b.queueUrl(dlq).maxNumberOfMessages(10).waitTimeSeconds(3)).messages())
                    .as("out of sight past the receive's second").isEmpty();

            copies.putBack();
            var again = receive(dlq, 3, 5);
            assertThat(again).extracting(Message::body).containsExactlyInAnyOrder("c1", "c2", "c3");
            assertThat(copies.add(again)).as("seen before: not counted again").isZero();
            assertThat(copies.size()).isEqualTo(3);

            copies.putBack();
            assertThat(receive(dlq, 3, 60)).as("in sight again at once, by the handles of their last receive").hasSize(3);
        } finally {
            sqs.deleteQueue(b -> b.queueUrl(dlq));
        }
    }

    /**
     * A redrive's loop ends once its receives set nothing new aside. A copy past both bounds was new each time it
     * came back (its receive's minute over): with 110,000 copies coming back, a run never ended — spinning at the
     * receive rate, the console's next redrive refused until a restart.
     */
    @Test
    void copiesPastEveryBound_areNotNewWhenTheyComeBackAgain() {
        String dlq = sqs.createQueue(b -> b.queueName(ElasticMq.uniqueName("redrive-dlq", false))).queueUrl();
        try {
            sqs.sendMessage(b -> b.queueUrl(dlq).messageBody("one"));
            String handle = receive(dlq, 1, 60).getFirst().receiptHandle();
            var copies = new SetAsideCopies(sqs, dlq, 2, 2);
            var six = new ArrayList<Message>();
            for (int i = 0; i < 6; i++) {
                six.add(Message.builder().messageId("copy-" + i).receiptHandle(handle).body("b").build());
            }

            assertThat(copies.add(six)).as("new: two set aside, two more remembered").isEqualTo(4);
            for (int round = 0; round < 3; round++) {
                assertThat(copies.add(six)).as("back again, round %s: nothing new", round).isZero();
            }
            assertThat(copies.size()).isEqualTo(2);
        } finally {
            sqs.deleteQueue(b -> b.queueUrl(dlq));
        }
    }

    /**
     * Sets aside 1,000 copies of one 256 KiB body (each a message id of its own, all under {@code handle});
     * the body, weakly held.
     */
    private static WeakReference<String> setAsideThousandCopiesOf256KiB(SetAsideCopies copies, String handle) {
        String body = "x".repeat(256 * 1024);
        var cameBack = new ArrayList<Message>();
        for (int i = 0; i < 1_000; i++) {
            cameBack.add(Message.builder().messageId(UUID.randomUUID().toString()).receiptHandle(handle).body(body).build());
        }
        assertThat(copies.add(cameBack)).as("each counted once").isEqualTo(1_000);
        return new WeakReference<>(body);
    }

    /** Whether the object {@code ref} held is collected, the collector asked a bounded number of times. */
    private static boolean collected(WeakReference<?> ref) throws InterruptedException {
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        return ref.get() == null;
    }

    /** Up to {@code expected} messages of {@code url}, each received once with {@code visibility} seconds. */
    private List<Message> receive(String url, int expected, int visibility) {
        var all = new ArrayList<Message>();
        for (int i = 0; i < 10 && all.size() < expected; i++) {
            all.addAll(sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(1)
                    .visibilityTimeout(visibility)).messages());
        }
        return all;
    }
}
