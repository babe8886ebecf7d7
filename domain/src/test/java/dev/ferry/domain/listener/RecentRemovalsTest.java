package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.testing.Await;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The record of receives taken away: what it matches, and that it holds no id (an HTTP key may be 1,024 characters). */
class RecentRemovalsTest {

    private static Delivery delivery(String id, int receiveCount, Object receipt) {
        return new Delivery(id, new byte[0], Map.of(), receiveCount, Instant.EPOCH, null, null, "s", receipt);
    }

    @Test
    void aReceiveTakenAway_isMatchedByIdCountAndReceipt_notAnotherReceiveOfTheSameMessage() {
        var removals = new RecentRemovals();
        var receipt = new Object();
        removals.record(delivery("m-1", 1, receipt));
        var none = new SettlementQueue(10);

        assertThat(removals.has(delivery("m-1", 1, receipt), none, List.of())).isTrue();
        assertThat(removals.has(delivery("m-1", 2, receipt), none, List.of())).as("another receive").isFalse();
        assertThat(removals.has(delivery("m-1", 1, new Object()), none, List.of())).as("another receipt").isFalse();
        assertThat(removals.has(delivery("m-2", 1, receipt), none, List.of())).as("another id").isFalse();
    }

    @Test // a review: the ring kept every id whole, 16,384 of them: 17 MB a listener of 1,024-character HTTP keys
    void theIdsOfReceivesTakenAway_areNotKept() {
        var removals = new RecentRemovals();
        var id = new WeakReference<>(new String("k".repeat(1_024) + "#0")); // its own object: nothing else holds it
        removals.record(delivery(id.get(), 1, new Object()));

        assertThat(Await.until(Duration.ofSeconds(10), () -> {
            System.gc();
            return id.get() == null;
        })).as("the id let go once its delivery is").isTrue();
    }
}
