package dev.ferry.adapters.kafka;

import static dev.ferry.adapters.kafka.KafkaParkedGroupMoverIT.PARKED;
import static dev.ferry.adapters.kafka.KafkaParkedGroupMoverIT.SINCE;
import static dev.ferry.adapters.kafka.KafkaParkedGroupMoverIT.committed;
import static dev.ferry.adapters.kafka.KafkaParkedGroupMoverIT.copy;
import static dev.ferry.adapters.kafka.KafkaParkedGroupMoverIT.deadLetter;
import static dev.ferry.adapters.kafka.KafkaParkedGroupMoverIT.headOfLaterPark;
import static dev.ferry.adapters.kafka.KafkaParkedGroupMoverIT.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.OnPoison;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.retry.Backoff;
import dev.ferry.domain.retry.RetryPolicy;
import dev.ferry.domain.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A key parked again while a move of its release runs, on an in-JVM KRaft broker: by a record the move sent back,
 * failing again (what came after it goes behind it, in order), or by a record let through the drained key (its park is
 * not this release's); the store failing to count what went back once the key was parked again; and the head of such
 * a park dropped, with every dead letter of its record.
 */
@ExtendWith(KafkaBroker.class)
class KafkaReleaseParkedAgainIT {

    /** The mover of {@code topic}'s dead letters. */
    private static GroupParker.Mover mover(String topic) {
        return new KafkaSourceConfig("orders", KafkaBroker.bootstrap(), List.of(topic), "unused", ".dlq", 5000, Map.of())
                .parkedGroupMover();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The release marks of what went back to {@code topic}, in order. */
    private static List<String> marks(String topic, int count) {
        return KafkaBroker.readAll(topic, count).stream().map(r -> ParkedRecords.header(r.headers(),
                GroupParker.RELEASE_ATTRIBUTE)).toList();
    }

    /**
     * Progress that notes each count in {@code told} and, at the first, dead-letters {@code parked} — the key parked
     * again just after it — and says from then on that the key is no longer being released (were it asked).
     */
    @SafeVarargs
    private static GroupParker.Progress parkedAgainAfterFirstCount(List<Long> told, ProducerRecord<byte[], byte[]>... parked) {
        var reparked = new AtomicBoolean();
        return new GroupParker.Progress() {
            @Override
            public void movedSoFar(long counted, long redriven) {
                told.add(counted);
                if (reparked.compareAndSet(false, true)) {
                    try {
                        deadLetter(parked);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }

            @Override
            public boolean stillReleasing() {
                return !reparked.get();
            }
        };
    }

    private static Long committedAt(String topic, GroupParker.Mover mover) {
        try (var admin = Admin.create(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap()))) {
            return committed(admin, ((KafkaParkedGroupMover) mover).releaseGroup("K"), new TopicPartition(topic + ".dlq", 0));
        }
    }

    @Test // a fourth review: a round asked the release whether the key was still being released; parked again by k2, which
          // the move had sent back, just after a round's count (so the move had not been told), the next round stopped at
          // once — k3, parked behind k1 meanwhile, stayed below k2's new copy, and the next release sent k3 ahead of k2
    void aRecordSentBackFailingAgainAfterARoundsCount_hasWhatCameAfterItGoBehindIt() throws Exception {
        String topic = KafkaBroker.topic("reparked-late", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        deadLetter(copy(topic, "k1", 0), copy(topic, "k2", 1));
        var mover = mover(topic);
        var told = new CopyOnWriteArrayList<Long>();

        // k3, from the key's producer, parked behind k1; then k2, sent back as 10, failing again
        var moved = mover.move(PARKED, "T", false, parkedAgainAfterFirstCount(told,
                copy(topic, "k3", 2), headOfLaterPark(topic, "k2", 10, "T#2")));

        assertThat(moved.problem()).as("stopped at k2's new copy").contains("parked again").contains(topic + ".dlq-0@3");
        assertThat(told).as("k1 and k2; then k3, behind k2").containsExactly(2L, 3L);
        assertThat(values(topic, 3)).containsExactly("k1", "k2", "k3");
        assertThat(marks(topic, 3)).as("k3 under this release, to be parked behind k2").containsExactly("T#1", "T#2", "T#3");
        assertThat(committedAt(topic, mover)).as("k2's new copy: the next release begins with it").isEqualTo(3L);
    }

    @Test // the same review: not asked, a later round must still tell a park that is not this release's — a record let
          // through the drained key, failing, heads it, and neither it nor what is parked behind it may go under this token
    void aRecordLetThroughFailingDuringARelease_andWhatFollowsIt_stayForTheNextRelease() throws Exception {
        String topic = KafkaBroker.topic("reparked-let-through", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        deadLetter(copy(topic, "k1", 0), copy(topic, "k2", 1));
        var mover = mover(topic);
        // k3, parked behind k1 (the key drained all the same: a count off); x, let through and failing; k5 behind x
        var moved = mover.move(PARKED, "T", false, parkedAgainAfterFirstCount(new CopyOnWriteArrayList<>(),
                copy(topic, "k3", 2), headOfLaterPark(topic, "x", 3, null), copy(topic, "k5", 4)));

        assertThat(moved.problem()).contains("parked again behind a new head").contains(topic + ".dlq-0@3");
        assertThat(moved.counted()).as("k1, k2 and k3, which was parked before x").isEqualTo(3);
        assertThat(values(topic, 4)).as("x and k5 stay").containsExactly("k1", "k2", "k3");
        assertThat(committedAt(topic, mover)).as("at x").isEqualTo(3L);
    }

    @Test // the same review: once the key was parked again, a store that failed to count a batch ended the move — the rest
          // stayed below the copies parked behind the new head, and the caller was told to retry, not that it was parked
    void theStoreFailingToCountABatch_afterTheKeyWasParkedAgain_doesNotEndTheMove() throws Exception {
        String topic = KafkaBroker.topic("reparked-uncounted", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        int count = 3 * ReleaseBatches.BATCH + 50;
        var copies = new ArrayList<ProducerRecord<byte[], byte[]>>();
        var expected = new ArrayList<String>();
        for (int i = 0; i < count; i++) {
            copies.add(copy(topic, "k" + (i + 1), i));
            expected.add("k" + (i + 1));
        }
        deadLetter(copies.toArray(ProducerRecord[]::new));
        var mover = mover(topic);
        var told = new CopyOnWriteArrayList<Long>();

        assertThatThrownBy(() -> mover.move(PARKED, "T", false, (counted, redriven) -> {
            told.add(counted);
            if (told.size() == 1) { // counted, and said: the key parked again behind a record of the first batch
                throw new GroupParker.ReleaseInterrupted("group K of 'orders' was parked again behind k7");
            }
            if (told.size() == 2) {
                throw new IllegalStateException("the store is down");
            }
        })).isInstanceOf(GroupParker.ReleaseInterrupted.class).hasMessageContaining("parked again behind k7")
                .hasMessageNotContaining("not all counted");
        assertThat(told).as("once the store failed, told again only at the round's end, in a running total (each count "
                + "waited the store's retries out)").containsExactly((long) ReleaseBatches.BATCH, 2L * ReleaseBatches.BATCH,
                (long) count);
        assertThat(values(topic, count)).as("everything went back, in order").containsExactlyElementsOf(expected);
        assertThat(committedAt(topic, mover)).isEqualTo((long) count);
    }

    @Test // a fifth review: the park's first head, found again once the key's cursor was lost (a release group's offsets
          // expire after a week idle), was taken for a later park's head: every release stopped there, the key parked for good
    void anEarlierHeadFoundAgain_theKeysCursorLost_goesBackAgain_andDoesNotStopTheRelease() throws Exception {
        String topic = KafkaBroker.topic("reparked-cursor-lost", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var k1 = copy(topic, "k1", 0); // the park's first head, dead-lettered a minute ago
        deadLetter(new ProducerRecord<>(k1.topic(), k1.partition(), SINCE.toEpochMilli(), k1.key(), k1.value(), k1.headers()),
                headOfLaterPark(topic, "k2", 5, "T0#2")); // k2, sent back by an earlier release, failed again: the head now
        var state = new ParkedGroup("orders", "K", "k2", "m-k2", "refused again", SINCE, java.time.Instant.now(), 2, 0, "T1",
                0, 0, false, 3);

        var moved = mover(topic).move(state, "T1", false);

        assertThat(moved.problem()).isNull();
        assertThat(moved.counted()).isEqualTo(2);
        assertThat(values(topic, 2)).as("k2, the head sent back before and failing again, first; k1 again (the ledger "
                + "drops it: handled before)").containsExactly("k2", "k1");
    }

    @Test // a second review: a head an earlier release sent back, failing again, has its new dead letter behind what that
          // release had not reached and what the key's producer parked meanwhile; sent in the topic's order, those were
          // handled before it
    void aHeadSentBackByAnEarlierReleaseThatFailedAgain_goesFirst_thenWhatThatReleaseSentAfterIt_thenTheRest()
            throws Exception {
        String topic = KafkaBroker.topic("reparked-head-first", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var k3 = copy(topic, "k3", 31);
        k3.headers().add(GroupParker.RELEASE_ATTRIBUTE, bytes("T0#3"));
        // k7, parked behind k1, not reached by release T0; p1, parked while T0 ran; then k2, sent back by T0, failing
        // again: the head now; k3, which T0 sent after it, parked behind it; p2, parked since
        deadLetter(copy(topic, "k7", 6), copy(topic, "p1", 20), headOfLaterPark(topic, "k2", 30, "T0#2"), k3,
                copy(topic, "p2", 40));
        var state = new ParkedGroup("orders", "K", "k2", "m-k2", "refused again", SINCE, java.time.Instant.now(), 5, 0, "T1",
                0, 0, false, 3);

        var moved = mover(topic).move(state, "T1", false);

        assertThat(moved.problem()).isNull();
        assertThat(values(topic, 5)).containsExactly("k2", "k3", "k7", "p1", "p2");
    }

    @Test // the head that failed again, too large for the dead-letter topic, is parked without its value and headers: its
          // copy keeps its release's mark, and the head goes first all the same, its value read from where it is
    void aHeadThatFailedAgainParkedWithoutItsValue_stillGoesFirst() throws Exception {
        String topic = KafkaBroker.topic("reparked-omitted", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        KafkaBroker.produce(topic, List.<String[]>of(new String[] {"K", "k2"})); // the copy T0 sent back, at offset 0
        var head = headOfLaterPark(topic, "k2", 0, "T0#2");
        head.headers().add(KafkaSource.VALUE_OMITTED, bytes("did not fit the dead-letter topic"));
        var omitted = new ProducerRecord<byte[], byte[]>(head.topic(), head.partition(), null, head.key(), null, head.headers());
        var k3 = copy(topic, "k3", 31);
        k3.headers().add(GroupParker.RELEASE_ATTRIBUTE, bytes("T0#3"));
        deadLetter(copy(topic, "k7", 6), copy(topic, "p1", 20), omitted, k3, copy(topic, "p2", 40));
        var state = new ParkedGroup("orders", "K", "k2", "m-k2", "refused again", SINCE, java.time.Instant.now(), 5, 0, "T1",
                0, 0, false, 3);

        var moved = mover(topic).move(state, "T1", false);

        assertThat(moved.problem()).isNull();
        assertThat(values(topic, 6)).containsExactly("k2", "k2", "k3", "k7", "p1", "p2");
    }

    @Test // a third review: the head that failed again goes first, from above records not yet sent; counted at once, a move
          // stopped before those counted it, the next release sent it again (the ledger drops it) and counted it again —
          // more moved than parked, the key taken for drained with dead letters left
    void aHeadSentFirst_isCountedOnceTheCursorPassesIt_soAStopBeforeTheRestCountsItOnce() throws Exception {
        String topic = KafkaBroker.topic("reparked-stopped", 1);
        String dlq = topic + ".dlq";
        KafkaBroker.create(dlq, 1);
        var c = copy(topic, "k3", 31);
        c.headers().add(GroupParker.RELEASE_ATTRIBUTE, bytes("T0#3"));
        deadLetter(copy(topic, "p1", 6), copy(topic, "p2", 7), headOfLaterPark(topic, "k2", 30, "T0#2"), c);
        var state = new ParkedGroup("orders", "K", "k2", "m-k2", "refused again", SINCE, java.time.Instant.now(), 4, 0, "T1",
                0, 0, false, 3);
        var mover = KafkaParkedGroupMoverIT.mover(topic);
        ReleaseInterceptor.holdAcknowledgements(topic, 3); // k2, k3 and p1 acknowledged; p2's write waits
        var first = new java.util.concurrent.atomic.AtomicReference<GroupParker.Moved>();
        var releasing = new Thread(() -> first.set(mover.move(state, "T1", false)), "releasing");
        try {
            releasing.start();
            assertThat(dev.ferry.domain.testing.Await.until(java.time.Duration.ofSeconds(60),
                    () -> ReleaseInterceptor.holding(topic))).as("p2's write waits").isTrue();
            releasing.interrupt();
            // its producer closes only once the acknowledgement is let through: the cursor is committed before that
            assertThat(dev.ferry.domain.testing.Await.until(java.time.Duration.ofSeconds(20),
                    () -> committedAt(topic, mover) != null)).as("the cursor committed").isTrue();
            assertThat(committedAt(topic, mover)).as("at p2, not sent").isEqualTo(1L);
        } finally {
            ReleaseInterceptor.open(topic);
            releasing.join(60_000);
        }
        assertThat(first.get()).isNotNull();
        assertThat(first.get().problem()).contains("interrupted");
        assertThat(first.get().counted()).as("p1: what the cursor passed; k2 and k3 lie above it").isEqualTo(1);

        var second = mover.move(state, "T2", false);
        assertThat(second.problem()).isNull();
        assertThat(first.get().counted() + second.counted()).as("each of the four counted once").isEqualTo(4);
    }

    @Test // a fourth review: a later park's head was told by its time alone — dead-lettered by an instance whose clock is
          // behind, it went back under this release's token, was parked behind itself, and no "at" dead letter was left
    void aLaterParksHeadDatedBeforeTheParkByASlowClock_stillStopsTheRound() throws Exception {
        String topic = KafkaBroker.topic("reparked-slow-clock", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        deadLetter(copy(topic, "k1", 0), copy(topic, "k2", 1));
        var state = new ParkedGroup("orders", "K", "k1", "m1", "refused", SINCE, java.time.Instant.now(), 3, 0, "T", 0, 0,
                false, 1);
        var x = headOfLaterPark(topic, "x", 3, null);
        var slow = new ProducerRecord<>(x.topic(), x.partition(), SINCE.toEpochMilli() + 1000, x.key(), x.value(), x.headers());

        var moved = mover(topic).move(state, "T", false, parkedAgainAfterFirstCount(new CopyOnWriteArrayList<>(),
                copy(topic, "k3", 2), slow, copy(topic, "k5", 4)));

        assertThat(moved.problem()).contains("parked again behind a new head").contains(topic + ".dlq-0@3");
        assertThat(values(topic, 4)).as("x and k5 stay").containsExactly("k1", "k2", "k3");
    }

    @Test // the same review: a head sent back again by a release that stopped since, failing again, has two copies; the
          // older one's mark was taken, and what the newer one's release sent after it went after the rest
    void ofAHeadsCopies_theNewestIsTheOneItsReleasesCopiesFollow() throws Exception {
        String topic = KafkaBroker.topic("reparked-twice", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var q1 = copy(topic, "q1", 31);
        q1.headers().add(GroupParker.RELEASE_ATTRIBUTE, bytes("T1#2"));
        // q2, not reached; a, sent back by T0, failing again; a again, sent back by T1 (which stopped before q2), failing
        // again; q1, which T1 sent after it
        deadLetter(copy(topic, "q2", 11), headOfLaterPark(topic, "a", 20, "T0#1"), headOfLaterPark(topic, "a", 30, "T1#1"),
                q1);
        var state = new ParkedGroup("orders", "K", "a", "m-a", "refused again", SINCE, java.time.Instant.now(), 4, 0, "T2",
                0, 0, false, 5);

        var moved = mover(topic).move(state, "T2", false);

        assertThat(moved.problem()).isNull();
        assertThat(values(topic, 4)).as("a, then q1, then q2 (and a's older copy, which the ledger drops)")
                .containsExactly("a", "q1", "q2", "a");
    }

    @Test // a review: k3, sent back by a release and failing again, was dropped (--skip-head) by a release that read the
          // key's dead letters from before — its cursor lost (a commit that failed, offsets expired): only k3's "at k3"
          // dead letter was dropped, its earlier one (parked behind k1) went back after k4 and k5, and k3 ran again
    void aDroppedHead_takesItsEventsEarlierDeadLetterWithIt_whenTheKeysCursorIsLost() throws Exception {
        String topic = KafkaBroker.topic("reparked-skip-head", 1);
        KafkaBroker.create(topic + ".dlq", 1);
        var limit = Duration.ofSeconds(60);
        var ledger = InMemoryLedger.create();
        var parker = new GroupParker(ledger, Clock.systemUTC());
        var handled = new CopyOnWriteArrayList<String>();
        Set<String> poison = ConcurrentHashMap.newKeySet();
        poison.addAll(List.of("k1", "k3"));
        Handler handler = (event, delivery) -> {
            if (poison.contains(event.key())) {
                return Outcome.reject(event.key() + " is refused downstream");
            }
            handled.add(event.key());
            return Outcome.done();
        };
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).name("orders")
                .deadLetterTopic(t -> t + ".dlq").build().start();
        var listener = Listener.builder(source, KafkaIT.DECODER, handler).ledger(ledger).onPoison(OnPoison.PARK)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(100)).retry(RetryPolicy.of(1,
                        Backoff.fixed(Duration.ofMillis(1)))).build()).build().start();
        try {
            var mover = mover(topic);
            KafkaBroker.produce(topic, List.of(new String[] {"K", "k1"}, new String[] {"K", "k2"}, new String[] {"K", "k3"},
                    new String[] {"K", "k4"}, new String[] {"K", "k5"}));
            assertThat(Await.until(limit, () -> parker.parked("orders", "K").map(p -> p.parked() >= 5).orElse(false)))
                    .as(() -> "parked at k1: " + parker.parked("orders", "K")).isTrue();
            // k1's dead letter older than the next park by more than the clocks' skew: not taken for a later park's head
            Thread.sleep(KafkaParkedGroupMover.CLOCK_SKEW.toMillis() + 200);

            poison.remove("k1");
            try {
                parker.release("orders", "K", false, mover, Duration.ofSeconds(20));
            } catch (FerryException parkedAgain) {
                // said: k3 failed again, the key parked behind it
            }
            assertThat(Await.until(limit, () -> parker.parked("orders", "K").map(p -> p.head().equals("k3")
                    && p.releaseToken() == null && p.waiting() >= 3).orElse(false)))
                    .as(() -> "parked again at k3, k4 and k5 behind it: " + parker.parked("orders", "K")).isTrue();
            // the key's cursor lost: the next release reads its dead letters from the start
            try (var admin = Admin.create(Map.<String, Object>of("bootstrap.servers", KafkaBroker.bootstrap()))) {
                admin.deleteConsumerGroups(List.of(((KafkaParkedGroupMover) mover).releaseGroup("K"))).all()
                        .get(30, TimeUnit.SECONDS);
            }

            poison.clear(); // k3's earlier dead letter, were it sent back, would now run
            var released = parker.release("orders", "K", true, "k3", mover, Duration.ofSeconds(20));

            assertThat(released.finish()).isNotEqualTo(GroupParker.Finish.NOT_YET);
            assertThat(Await.until(limit, () -> parker.parked("orders", "K").isEmpty()))
                    .as(() -> "unparked once all it sent back passed: " + parker.parked("orders", "K")).isTrue();
            assertThat(handled).as("k4 and k5 after k2; k1, k2, k4 and k5 sent again, dropped by the ledger; k3 never")
                    .containsExactly("k1", "k2", "k4", "k5");
        } finally {
            listener.close();
        }
    }
}
