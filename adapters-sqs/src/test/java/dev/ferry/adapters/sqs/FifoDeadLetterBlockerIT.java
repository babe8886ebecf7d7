package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * A FIFO group's dead letters wait behind a message whose copy failed — on the instance where it failed,
 * for the messages it had in hand then. Two sources on one FIFO queue, as two instances.
 */
@ExtendWith(ElasticMq.class)
class FifoDeadLetterBlockerIT {

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
    }

    private static List<Delivery> poll(SqsSource source, String body, int leaseSeconds) {
        var got = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && got.isEmpty(); i++) {
            got.addAll(source.poll(new PollRequest(1, Duration.ofSeconds(2), Duration.ofSeconds(leaseSeconds))));
        }
        assertThat(got).extracting(d -> new String(d.body(), StandardCharsets.UTF_8)).containsExactly(body);
        return got;
    }

    private static List<Settlement> deadLetter(List<Delivery> deliveries) {
        return deliveries.stream().map(d -> new Settlement(d, Disposition.deadLetter("poison"))).toList();
    }

    @Test
    void aGroupsDeadLetters_doNotWaitBehindAMessageAnotherInstanceCopiedSince() {
        // the first instance held the group's later dead letters back for 15 minutes behind a message the second had
        // copied and deleted: each came back lease after lease, and ran again on the others (not owed there)
        var refuse = new AtomicBoolean(true);
        var refusing = ElasticMq.clientWith(new RefusedEntries("a1", refuse::get, "InvalidParameterValue", true));
        opened.add(refusing);
        var q = SqsFixture.create(refusing, true, 1000);
        opened.add(q);
        var first = q.source();
        var second = SqsSource.builder(ElasticMq.client(), q.url).build();
        opened.add(second);
        q.send("a1", Map.of(), "A");
        q.send("a2", Map.of(), "A");

        var a1 = poll(first, "a1", 1);
        assertThat(first.settle(deadLetter(a1))).as("a1's copy refused for good on the first instance").hasSize(1);
        refuse.set(false);
        var a1Again = poll(second, "a1", 30);  // back once its one-second lease ran out
        assertThat(second.settle(deadLetter(a1Again))).as("copied and deleted by the second").isEmpty();

        var a2 = poll(first, "a2", 30);        // after a1 was deleted: nothing of its group is ahead of it
        assertThat(first.settle(deadLetter(a2))).as("a2 is not held back behind a1").isEmpty();
        assertThat(q.deadLetterMessages()).extracting(Message::body).containsExactly("a1", "a2");
    }

    @Test
    void aMessageInHandWhenItsGroupsCopyFailed_isStillHeldBack() {
        // the rule above must not let a message received with the failed one overtake it in the dead-letter queue
        var refuse = new AtomicBoolean(true);
        var refusing = ElasticMq.clientWith(new RefusedEntries("a1", refuse::get, "InvalidParameterValue", true));
        opened.add(refusing);
        var q = SqsFixture.create(refusing, true, 1000);
        opened.add(q);
        q.send("a1", Map.of(), "A");
        q.send("a2", Map.of(), "A");
        var got = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && got.size() < 2; i++) {
            got.addAll(q.source().poll(new PollRequest(10, Duration.ofSeconds(1), Duration.ofSeconds(30))));
        }
        assertThat(got).hasSize(2);

        assertThat(q.source().settle(deadLetter(got.subList(0, 1)))).hasSize(1);
        refuse.set(false);
        assertThat(q.source().settle(deadLetter(got.subList(1, 2)))).extracting(f -> f.reason()).singleElement()
                .asString().contains("held back behind message");
    }

    @Test
    void aMessageInHandWhenItsGroupsCopyFailed_staysHeldBackOnceTheHoldRunsOut() throws Exception {
        // once the hold ran out (15 minutes: a sink outage kept a2 in hand), a2 was copied ahead of a1, still owed: the
        // dead-letter queue had a2 before a1, and a redrive ran them in that order. a2 has been in flight since before
        // a1's copy failed, so SQS gave a1 to no one else meanwhile: a2 waits for it however long
        var refuse = new AtomicBoolean(true);
        var refusing = ElasticMq.clientWith(new RefusedEntries("a1", refuse::get, "InvalidParameterValue", true));
        opened.add(refusing);
        var q = SqsFixture.create(refusing, true, 1000);
        opened.add(q);
        var calls = Executors.newSingleThreadExecutor();
        opened.add(calls);
        var copies = new DeadLetterCopies(refusing, q.dlqUrl, "q", "q", 0, calls, Duration.ofSeconds(1));
        q.send("a1", Map.of(), "A");
        q.send("a2", Map.of(), "A");
        var got = new ArrayList<Delivery>();
        for (int i = 0; i < 10 && got.size() < 2; i++) {
            got.addAll(q.source().poll(new PollRequest(10, Duration.ofSeconds(1), Duration.ofSeconds(60))));
        }
        assertThat(got).extracting(d -> new String(d.body(), StandardCharsets.UTF_8)).containsExactly("a1", "a2");

        var failures = new ArrayList<Settlement.Failure>();
        assertThat(copies.send(deadLetter(got.subList(0, 1)), failures)).as("a1's copy refused for good").isEmpty();
        assertThat(failures).hasSize(1);
        Thread.sleep(1_500); // past the one-second hold
        refuse.set(false);
        failures.clear();
        assertThat(copies.send(deadLetter(got.subList(1, 2)), failures)).as("a2 not copied ahead of a1").isEmpty();
        assertThat(failures).extracting(Settlement.Failure::reason).singleElement().asString()
                .contains("held back behind message");

        failures.clear();
        assertThat(copies.send(deadLetter(got), failures)).hasSize(2);
        assertThat(failures).isEmpty();
        assertThat(q.deadLetterMessages()).extracting(Message::body).containsExactly("a1", "a2");
    }
}
