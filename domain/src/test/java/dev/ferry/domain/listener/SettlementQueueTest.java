package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The hand-off to the settler: in order, nothing lost, an idle settler woken by the first one. */
@Timeout(60)
class SettlementQueueTest {

    private static final long LONG = TimeUnit.SECONDS.toNanos(30);

    private static SettlementQueue.Queued settlement(int i) {
        var d = new Delivery("m-" + i, new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "q", null);
        return new SettlementQueue.Queued(new Settlement(d, Disposition.ACK), i % 2 == 0);
    }

    @Test
    void anIdleSettler_isWokenByTheFirstSettlement() throws Exception {
        var queue = new SettlementQueue(100);
        var settler = CompletableFuture.runAsync(() -> queue.awaitAny(LONG));
        Thread.sleep(100);
        queue.add(settlement(1));
        settler.get(10, TimeUnit.SECONDS);
        var got = new ArrayList<SettlementQueue.Queued>();
        assertThat(queue.drainTo(got, 100)).isEqualTo(1);
        assertThat(got.getFirst().settlement().delivery().id()).isEqualTo("m-1");
    }

    @Test
    void excused_countsTheExcusedAcksQueuedForOneMessage() {
        var queue = new SettlementQueue(100);
        queue.add(settlement(2));
        queue.add(settlement(2));
        queue.add(settlement(3)); // not excused
        queue.add(settlement(4));
        assertThat(queue.excused("m-2")).isEqualTo(2);
        assertThat(queue.excused("m-3")).isZero();
        assertThat(queue.excused("m-5")).isZero();
        queue.drainTo(new ArrayList<>(), 1);
        assertThat(queue.excused("m-2")).as("what the consumer took is no longer queued").isEqualTo(1);
    }

    @Test
    void aLingeringSettler_isWokenByAFullBatch() throws Exception {
        var queue = new SettlementQueue(10);
        var settler = CompletableFuture.runAsync(() -> queue.linger(LONG));
        Thread.sleep(100);
        for (int i = 0; i < 10; i++) {
            queue.add(settlement(i));
        }
        settler.get(10, TimeUnit.SECONDS);
        var got = new ArrayList<SettlementQueue.Queued>();
        assertThat(queue.drainTo(got, 100)).isEqualTo(10);
    }

    @Test
    void manyProducers_oneConsumer_nothingLost_eachProducersOrderKept() throws Exception {
        var queue = new SettlementQueue(100);
        int perProducer = 20_000;
        var producers = new ArrayList<CompletableFuture<Void>>();
        for (int p = 0; p < 3; p++) {
            int base = p * perProducer;
            producers.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < perProducer; i++) {
                    queue.add(settlement(base + i));
                }
            }));
        }
        var got = new ArrayList<SettlementQueue.Queued>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (got.size() < 3 * perProducer && System.nanoTime() < deadline) {
            if (queue.drainTo(got, 100) == 0) {
                queue.awaitAny(TimeUnit.MILLISECONDS.toNanos(10));
            }
        }
        for (var f : producers) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(got).hasSize(3 * perProducer);
        int[] last = {-1, -1, -1};
        for (var s : got) {
            int n = Integer.parseInt(s.settlement().delivery().id().substring(2));
            assertThat(n).isGreaterThan(last[n / perProducer]);
            last[n / perProducer] = n;
        }
        assertThat(queue.isEmpty()).isTrue();
    }
}
