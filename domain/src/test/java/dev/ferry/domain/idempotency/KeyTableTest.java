package dev.ferry.domain.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KeyTableTest {

    /** What a key should hold, kept beside the table as the model it is checked against. */
    private record Held(long token, long leaseUntil, long completedAt, long expiresAt) {
    }

    @Test
    void randomAddsClaimsCompletionsAndRemovals_matchAPlainMap() {
        for (long seed = 1; seed <= 20; seed++) {
            var random = new SplittableRandom(seed);
            var table = new KeyTable(KeyTable.MAX_ARRAY);
            var model = new HashMap<String, Held>();
            var order = new ArrayList<String>(); // completions in order, for the oldest-first check
            long tokens = 0;
            int keySpace = 50 + random.nextInt(3_000);
            for (int step = 0; step < 40_000; step++) {
                // keys of every length, some sharing long prefixes, some beyond Latin-1
                String key = switch (random.nextInt(3)) {
                    case 0 -> "k" + random.nextInt(keySpace);
                    case 1 -> "prefix-shared-by-many-keys/" + random.nextInt(keySpace) + "/é€";
                    default -> "x".repeat(random.nextInt(keySpace % 97 + 1)) + random.nextInt(keySpace);
                };
                int h = table.hashOf(key);
                int id = table.find(key, h);
                var held = model.get(key);
                assertThat(id == KeyTable.NONE).as("%s held", key).isEqualTo(held == null);
                if (held != null) {
                    assertThat(new Held(table.token(id), table.leaseUntil(id), table.completedAt(id), table.expiresAt(id)))
                            .isEqualTo(held);
                }
                switch (random.nextInt(5)) {
                    case 0, 1 -> {
                        if (held == null) {
                            long token = ++tokens;
                            table.add(key, h, token, step + 100);
                            model.put(key, new Held(token, step + 100, KeyTable.IN_PROGRESS, 0));
                        } else {
                            long token = ++tokens;
                            table.claim(id, token, step + 50);
                            model.put(key, new Held(token, step + 50, KeyTable.IN_PROGRESS, 0));
                            order.remove(key);
                        }
                    }
                    case 2 -> {
                        if (held != null && held.completedAt() == KeyTable.IN_PROGRESS) {
                            table.complete(id, step, step + 1_000);
                            model.put(key, new Held(held.token(), 0, step, step + 1_000));
                            order.add(key);
                        }
                    }
                    case 3 -> {
                        if (held != null) {
                            table.remove(id);
                            model.remove(key);
                            order.remove(key);
                        }
                    }
                    default -> {
                        int oldest = table.oldestCompletion();
                        if (order.isEmpty()) {
                            assertThat(oldest).isEqualTo(KeyTable.NONE);
                        } else {
                            var expected = model.get(order.getFirst());
                            assertThat(table.token(oldest)).as("the oldest completion").isEqualTo(expected.token());
                            if (random.nextBoolean()) {
                                table.dropOldestCompletion();
                                model.remove(order.removeFirst());
                            }
                        }
                    }
                }
                assertThat(table.size()).isEqualTo(model.size());
            }
            for (Map.Entry<String, Held> e : model.entrySet()) {
                int id = table.find(e.getKey(), table.hashOf(e.getKey()));
                assertThat(id).as("still findable after every rehash and compaction: %s", e.getKey())
                        .isNotEqualTo(KeyTable.NONE);
                assertThat(table.token(id)).isEqualTo(e.getValue().token());
            }
        }
    }

    @Test
    void runOutClaimsAreDropped_completionsAndLiveClaimsStay_andTheEarliestLeaseLeftIsReturned() {
        var table = new KeyTable(KeyTable.MAX_ARRAY);
        table.add("run-out", table.hashOf("run-out"), 1, 10);
        table.add("live", table.hashOf("live"), 2, 30);
        int done = table.add("done", table.hashOf("done"), 3, 5);
        table.complete(done, 4, 100);
        assertThat(table.dropEnded(20, 1_000, false)).isEqualTo(30);
        assertThat(table.find("run-out", table.hashOf("run-out"))).isEqualTo(KeyTable.NONE);
        assertThat(table.find("live", table.hashOf("live"))).isNotEqualTo(KeyTable.NONE);
        assertThat(table.find("done", table.hashOf("done"))).isNotEqualTo(KeyTable.NONE);
        assertThat(table.size()).isEqualTo(2);
    }

    @Test
    void keysThatCollideForStringHashCode_doNotShareAHash() {
        // "Aa" and "BB" have the same String.hashCode, and so does every string made of them: a sender
        // could fill the table with such keys. The table's own hash is seeded and tells them apart.
        List<String> keys = new ArrayList<>();
        for (int bits = 0; bits < 1 << 12; bits++) {
            var key = new StringBuilder();
            for (int i = 0; i < 12; i++) {
                key.append((bits >> i & 1) == 0 ? "Aa" : "BB");
            }
            keys.add(key.toString());
        }
        assertThat(keys.stream().mapToInt(String::hashCode).distinct().count()).isEqualTo(1);
        var table = new KeyTable(KeyTable.MAX_ARRAY);
        assertThat(keys.stream().mapToInt(table::hashOf).distinct().count()).as("distinct hashes of 4,096 keys")
                .isGreaterThan(4_000);
    }
}
