package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.memory.InMemoryQueue;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.OnPoison;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import dev.ferry.domain.testing.LineDecoder;
import dev.ferry.domain.transport.DeadLetterAttributes;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A parked group whose producer never pauses: each pass of a release ends with a few empty reads of the dead-letter
 * queue (SQS answers empty while messages wait), and every message sent meanwhile was parked behind the release's
 * copies — so no pass was ever quiet, and the release gave up with the group still parked, for as long as the
 * producer sent. Once the release has moved every parked message and each has been handled, what the producer sends
 * comes after them all and goes on.
 */
class BusyParkedGroupTest {

    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static final String SOURCE = "orders.fifo";

    private final InMemoryQueue dlq = InMemoryQueue.builder("orders-dlq.fifo").build();
    private final InMemoryQueue fifo = InMemoryQueue.builder(SOURCE).contentBasedDeduplication(true)
            .deadLetterQueue(dlq).build();
    private final InMemoryLedger ledger = InMemoryLedger.create();
    private final GroupParker parker = new GroupParker(ledger, Clock.systemUTC());
    private final List<String> handled = new CopyOnWriteArrayList<>();
    private final Set<String> poison = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean producing = new AtomicBoolean(true);
    private Listener listener;

    @AfterEach
    void stop() {
        producing.set(false);
        if (listener != null) {
            listener.stop();
        }
    }

    @Test
    void aReleaseEnds_whileTheProducerKeepsSending_andTheGroupKeepsItsOrder() throws Exception {
        Handler handler = (event, delivery) -> {
            if (poison.contains(event.key())) {
                return Outcome.retry(event.key() + " fails");
            }
            handled.add(event.key());
            return Outcome.done();
        };
        listener = Listener.builder(fifo, fifo, new LineDecoder(), handler).ledger(ledger).onPoison(OnPoison.PARK)
                .config(ListenerTest.fast().retry(RetryPolicy.of(2, Backoff.fixed(Duration.ofMillis(1)))).build())
                .build().start();
        poison.add("a1");
        var sent = new AtomicInteger();
        var producer = Thread.ofPlatform().daemon().start(() -> {
            while (producing.get() && sent.get() < 2_000) {
                fifo.send(InMemoryQueue.Message.of("a" + sent.incrementAndGet(), "A"));
                try {
                    Thread.sleep(40); // far more often than a pass's empty reads take
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        assertThat(Await.until(LIMIT, () -> parker.parked(SOURCE, "A").map(ParkedGroup::parked).orElse(0L) >= 5))
                .as("a1 parked its group, the producer's messages behind it").isTrue();
        poison.clear(); // the cause is fixed

        var released = parker.release(SOURCE, "A", false, moveBack(), Duration.ofSeconds(10));

        assertThat(released.finish()).as("the release ended while the producer sent").isNotEqualTo(GroupParker.Finish.NOT_YET);
        assertThat(Await.until(LIMIT, () -> parker.parked(SOURCE, "A").isEmpty())).as("unparked").isTrue();
        producing.set(false);
        producer.join(LIMIT.toMillis());
        int total = sent.get();
        assertThat(Await.until(LIMIT, () -> handled.size() >= total)).as(() -> "handled " + handled.size() + " of " + total)
                .isTrue();
        var expected = new ArrayList<String>();
        for (int i = 1; i <= total; i++) {
            expected.add("a" + i);
        }
        assertThat(handled).as("every message once, in the producer's order").containsExactlyElementsOf(expected);
        assertThat(dlq.messages()).isEmpty();
    }

    /**
     * What a release does on SQS, on the in-memory queues: reads the dead-letter queue until three empty answers in a
     * row (each a wait), copies the group's messages back with the token, deletes them, and tells each batch.
     */
    private GroupParker.Moved moveBack(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
        long counted = 0;
        long redriven = 0;
        int empty = 0;
        var others = new ArrayList<Settlement>();
        while (empty < 3) {
            var batch = dlq.poll(new PollRequest(10, Duration.ofMillis(150), Duration.ofSeconds(30)));
            if (batch.isEmpty()) {
                empty++;
                continue;
            }
            empty = 0;
            for (var d : batch) {
                String reason = d.attributes().get(DeadLetterAttributes.REASON);
                if (!parked.group().equals(d.groupKey()) || !GroupParker.parkedWith(reason, parked.group())) {
                    others.add(new Settlement(d, Disposition.RELEASE));
                    continue;
                }
                var attributes = new HashMap<>(d.attributes());
                attributes.keySet().removeIf(k -> k.startsWith(DeadLetterAttributes.PREFIX)
                        || k.equals(InMemoryQueue.SEQUENCE_NUMBER));
                attributes.put(GroupParker.RELEASE_ATTRIBUTE, GroupParker.releaseValue(token, parked.redriven() + redriven + 1));
                fifo.send(InMemoryQueue.Message.of(new String(d.body()), parked.group()).withAttributes(attributes)
                        .withDeduplicationId(token + "-" + d.id()));
                counted++;
                redriven++;
                dlq.settle(List.of(new Settlement(d, Disposition.ACK)));
            }
            progress.movedSoFar(counted, redriven);
        }
        dlq.settle(others);
        return new GroupParker.Moved(counted, redriven);
    }

    private GroupParker.Mover moveBack() {
        return new GroupParker.Mover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
                return moveBack(parked, token, skipHead, (c, r) -> { });
            }

            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
                return moveBack(parked, token, skipHead, progress);
            }
        };
    }
}
