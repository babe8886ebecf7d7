package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandsTest {

    private final Capacity capacity = new Capacity(10, 1, 0);
    private final Hands hands = new Hands(capacity, null);

    private static InFlight item(String id) {
        var delivery = new Delivery(id, new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "q", null);
        return new InFlight(delivery, List.of(), null, null, Instant.MAX, Instant.MAX);
    }

    @Test
    void aPollsDeliveries_areInFlightUntilEachIsLetGo_once() throws InterruptedException {
        assertThat(capacity.acquire(3, 1_000_000)).isEqualTo(3);
        var batch = hands.open(3);
        var a = item("a");
        var b = item("b");
        var c = item("c");
        hands.take(batch, 0, a);
        hands.take(batch, 1, b);
        hands.take(batch, 2, c);
        assertThat(hands.size()).isEqualTo(3);

        assertThat(hands.letGo(a)).isTrue();
        assertThat(hands.letGo(a)).as("only the first call").isFalse();
        assertThat(hands.letGo(b)).isTrue();
        assertThat(hands.inFlight()).containsExactly(c);
        assertThat(hands.size()).isEqualTo(1);
        assertThat(hands.inSlot(batch, 0)).as("a settled delivery is not kept by its neighbour").isNull();
        assertThat(hands.giveUp(batch, 0)).as("a slot taken and let go is not given up").isFalse();
        var fourth = hands.open(1);
        assertThat(hands.giveUp(fourth, 0)).as("a slot never taken is given up").isTrue();
        assertThat(hands.giveUp(fourth, 0)).as("once: a second give-up would count its poll down twice").isFalse();

        assertThat(hands.letGo(c)).isTrue();
        assertThat(hands.inFlight()).isEmpty();
        assertThat(hands.isEmpty()).isTrue();
        assertThat(capacity.acquire(10, 1_000_000)).as("every slot given back").isEqualTo(10);
    }

    @Test
    void aHandedOverDelivery_doesNotKeepItsPollInMemory() throws InterruptedException {
        assertThat(capacity.acquire(2, 1_000_000)).isEqualTo(2);
        var batch = hands.open(2);
        var kept = item("kept");
        var other = item("other");
        hands.take(batch, 0, kept);
        hands.take(batch, 1, other);
        assertThat(hands.handOver(kept, false)).isTrue();
        assertThat(kept.batch).isNull();
        assertThat(hands.takeBack(kept.delivery)).isSameAs(kept);
        assertThat(hands.inFlight()).containsExactly(other);
    }

    @Test
    void aSlotGivenUp_letsThePollGoOnceTheOthersAreLetGo() throws InterruptedException {
        assertThat(capacity.acquire(1, 1_000_000)).isEqualTo(1);
        var batch = hands.open(2);
        var a = item("a");
        hands.take(batch, 0, a);
        assertThat(hands.giveUp(batch, 1)).isTrue();
        assertThat(hands.size()).as("the slot given up counted down").isEqualTo(1);
        hands.letGo(a);
        assertThat(hands.inFlight()).isEmpty();
        assertThat(hands.size()).isZero();
    }

    @Test // a review of the fix: the settle that takes a message away is marked settled, then noted as ours, under the item's
          // lock; a handler's settle looking in between read no disposition, took it for none that removes, and sent its own
    void aSettleBeingMarked_isSeenAsRemoving_evenBeforeItsDispositionIsNoted() throws Exception {
        assertThat(capacity.acquire(1, 1_000_000)).isEqualTo(1);
        var batch = hands.open(1);
        var a = item("a");
        hands.take(batch, 0, a);
        var answer = new java.util.concurrent.atomic.AtomicReference<Boolean>();
        Thread looking;
        synchronized (a) { // as settlingOurs holds it: marked settled, its disposition not yet written
            assertThat(hands.settling(a)).isTrue();
            looking = Thread.ofPlatform().start(() -> answer.set(hands.removingNow(a.delivery)));
            var lookingThread = looking; // it waits for the lock, or answered without it (never read before it looked)
            assertThat(dev.ferry.domain.testing.Await.until(java.time.Duration.ofSeconds(5), () -> lookingThread.getState()
                    == Thread.State.BLOCKED || !lookingThread.isAlive())).as("it looked").isTrue();
            a.ours = dev.ferry.domain.transport.Disposition.ACK;
        }
        assertThat(looking.join(java.time.Duration.ofSeconds(5))).isTrue();
        assertThat(answer.get()).as("the ack being queued is found").isTrue();
    }
}
