package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.kafka.PartitionBuffer.Rec;
import dev.ferry.adapters.kafka.PartitionBuffer.State;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PartitionBufferTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final PartitionBuffer buffer = new PartitionBuffer(new TopicPartition("t", 0));
    private long nextOffset;

    private void add(String... keys) {
        for (var key : keys) {
            buffer.add(new ConsumerRecord<>("t", 0, nextOffset++, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                    new byte[] {1}));
        }
    }

    private List<Rec> take(int max, long now) {
        var out = new ArrayList<Rec>();
        buffer.takeInto(out, max, now);
        return out;
    }

    private static List<Long> offsets(List<Rec> recs) {
        return recs.stream().map(Rec::offset).toList();
    }

    @Test
    void aKeysRecords_goOutInOrder_andNotWhileOneIsOut_otherKeysGoOn() {
        add("a", "a", "b", "a");
        long now = System.nanoTime();
        assertThat(offsets(take(2, now))).containsExactly(0L, 1L);
        // a is out: its offset 3 waits, b goes
        var second = take(10, now);
        assertThat(offsets(second)).containsExactly(2L);
        assertThat(take(10, now)).isEmpty();
    }

    @Test
    void releasedRecords_comeBackInOffsetOrder_beforeTheKeysLaterOnes() {
        add("a", "a", "a", "a");
        long now = System.nanoTime();
        var out = take(3, now);
        assertThat(offsets(out)).containsExactly(0L, 1L, 2L);
        buffer.done(out.get(0));
        // given highest first, as the source does
        buffer.requeue(out.get(2), false, 0);
        buffer.requeue(out.get(1), false, 0);
        assertThat(offsets(take(10, now))).containsExactly(1L, 2L, 3L);
    }

    @Test
    void releasedRecords_givenLowestFirst_stillComeBackInOrder() {
        add("a", "a", "a", "a", "a");
        long now = System.nanoTime();
        var out = take(3, now);
        buffer.requeue(out.get(0), false, 0);
        buffer.requeue(out.get(1), false, 0);
        buffer.requeue(out.get(2), false, 0);
        assertThat(offsets(take(10, now))).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(out).allSatisfy(r -> assertThat(r.receives).isEqualTo(2));
    }

    @Test
    void aRedeliver_holdsItsKeyForTheDelay_otherKeysGoOn_thenItGoesFirst() {
        add("a", "b", "a", "b");
        long now = System.nanoTime();
        var out = take(1, now);
        assertThat(offsets(out)).containsExactly(0L);
        buffer.requeue(out.getFirst(), true, now + 5 * SECOND);

        var meanwhile = new ArrayList<Rec>();
        long wait = buffer.takeInto(meanwhile, 10, now + SECOND);
        assertThat(offsets(meanwhile)).containsExactly(1L, 3L);
        assertThat(wait).as("until a's hold ends").isEqualTo(4 * SECOND);

        assertThat(take(10, now + 5 * SECOND)).extracting(Rec::offset).containsExactly(0L, 2L);
    }

    @Test
    void aRedeliverOfARecordWithoutKey_holdsTheWholePartition() {
        add(null, "b");
        long now = System.nanoTime();
        var out = take(1, now);
        assertThat(offsets(out)).containsExactly(0L);
        buffer.requeue(out.getFirst(), true, now + 2 * SECOND);
        var none = new ArrayList<Rec>();
        assertThat(buffer.takeInto(none, 10, now + SECOND)).isEqualTo(SECOND);
        assertThat(none).isEmpty();
        assertThat(offsets(take(10, now + 2 * SECOND))).containsExactly(0L, 1L);
    }

    @Test
    void recordsWithoutKey_goOutInOffsetOrder_aKeysWaitingRecordsTogether() {
        add(null, "a", null, "a", null);
        assertThat(offsets(take(10, System.nanoTime()))).containsExactly(0L, 1L, 3L, 2L, 4L);
    }

    @Test
    void theCommittableOffset_isTheFirstRecordNotDone_andDoneHeadsLeaveTheBuffer() {
        add("a", "b", "c");
        var out = take(10, System.nanoTime());
        buffer.done(out.get(1));
        assertThat(buffer.committable()).isZero();
        assertThat(buffer.size()).isEqualTo(3);
        buffer.done(out.get(0));
        assertThat(buffer.committable()).isEqualTo(2L);
        assertThat(buffer.size()).as("the done head is trimmed").isEqualTo(1);
        buffer.done(out.get(2));
        assertThat(buffer.committable()).isEqualTo(3L);
        assertThat(buffer.size()).isZero();
        assertThat(buffer.bytes).isZero();
    }

    /**
     * Random takes, acks, releases and redelivers over random keys, against the rules: never two
     * records of one key out at once, each record of a key out only when it is the lowest of the
     * key's waiting ones, nothing lost or done twice, and the offset to commit at the end after all.
     */
    @Test
    void randomWork_keepsEveryRule() {
        for (int seed = 0; seed < 300; seed++) {
            var random = new Random(seed);
            var buf = new PartitionBuffer(new TopicPartition("t", 0));
            long offset = 0;
            long now = System.nanoTime();
            var keyOf = new HashMap<Long, String>();
            var waiting = new HashMap<String, TreeSet<Long>>();      // the model: each key's waiting offsets
            var out = new ArrayList<Rec>();
            var doneOffsets = new HashSet<Long>();
            for (int step = 0; step < 400; step++) {
                int op = random.nextInt(10);
                if (op < 3 && offset < 300) {
                    for (int i = random.nextInt(5); i >= 0; i--) {
                        String key = random.nextInt(8) == 0 ? null : "k" + random.nextInt(6);
                        keyOf.put(offset, key);
                        if (key != null) {
                            waiting.computeIfAbsent(key, k -> new TreeSet<>()).add(offset);
                        }
                        buf.add(new ConsumerRecord<>("t", 0, offset++, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                                new byte[] {1}));
                    }
                } else if (op < 6) {
                    var got = new ArrayList<Rec>();
                    buf.takeInto(got, 1 + random.nextInt(6), now);
                    var keysOut = new HashSet<String>();
                    for (var o : out) {
                        keysOut.add(keyOf.get(o.offset()));
                    }
                    for (var r : got) {
                        String key = keyOf.get(r.offset());
                        assertThat(r.state).isEqualTo(State.OUT);
                        if (key != null) {
                            assertThat(keysOut).as("seed %d: a second record of %s out", seed, key).doesNotContain(key);
                            assertThat(waiting.get(key).first()).as("seed %d: %s out of order", seed, key).isEqualTo(r.offset());
                            waiting.get(key).remove(r.offset());
                        }
                    }
                    out.addAll(got);
                } else if (!out.isEmpty()) {
                    var back = new ArrayList<Rec>();
                    for (int i = random.nextInt(3); i >= 0 && !out.isEmpty(); i--) {
                        var r = out.remove(random.nextInt(out.size()));
                        if (random.nextInt(3) == 0) {
                            back.add(r);
                        } else {
                            buf.done(r);
                            assertThat(doneOffsets.add(r.offset())).as("seed %d: done twice", seed).isTrue();
                        }
                    }
                    back.sort(Comparator.comparingLong(Rec::offset).reversed());      // as the source gives them
                    for (var r : back) {
                        buf.requeue(r, random.nextBoolean(), now + SECOND);
                        String key = keyOf.get(r.offset());
                        if (key != null) {
                            waiting.get(key).add(r.offset());
                        }
                    }
                }
                if (random.nextInt(20) == 0) {
                    now += 2 * SECOND;        // every hold ends
                }
            }
            // drain: settle everything out, then take again, until nothing is left
            for (int round = 0; round < 1000 && doneOffsets.size() < offset; round++) {
                for (var r : out) {
                    buf.done(r);
                    assertThat(doneOffsets.add(r.offset())).isTrue();
                }
                out.clear();
                now += 2 * SECOND;
                buf.takeInto(out, 50, now);
            }
            assertThat(doneOffsets).as("seed %d: every record done", seed).hasSize((int) offset);
            assertThat(buf.committable()).as("seed %d", seed).isEqualTo(offset);
            assertThat(buf.size()).isZero();
        }
    }
}
