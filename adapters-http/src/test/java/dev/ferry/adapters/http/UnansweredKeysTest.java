package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

/** What the HTTP sink remembers of events whose attempts went unanswered, while its endpoint is down. */
class UnansweredKeysTest {

    @Test // a review: each key was kept whole; an event id as long as a JSON string may be held 256 KiB per event
    void longKeys_areRememberedWithoutBeingKeptWhole() {
        var keys = new UnansweredKeys(Duration.ofMinutes(15), () -> 0L);
        var held = new ArrayList<WeakReference<String>>();
        for (int i = 0; i < 50; i++) {
            String key = i + "k".repeat(100_000);
            held.add(new WeakReference<>(key));
            keys.add(key);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (held.stream().anyMatch(k -> k.get() != null) && System.nanoTime() - deadline < 0) {
            System.gc();
        }
        assertThat(held).as("no long key kept whole").allMatch(k -> k.get() == null);

        String seven = "7" + "k".repeat(100_000);
        assertThat(keys.contains(seven)).as("still known, by an equal key").isTrue();
        assertThat(keys.contains("7" + "k".repeat(99_999))).isFalse();
        keys.remove(seven);
        assertThat(keys.contains(seven)).isFalse();
        assertThat(keys.size()).isEqualTo(49);
    }
}
