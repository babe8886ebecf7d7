package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A request's body is cut into its events by one Jackson factory for the process's life, which kept the field names
 * of every body it read, to share them with the next (until 6,000 of them): a client posting distinct long names
 * (49,000 characters, under Jackson's limit) left about 2 MB a request behind, and every later request copied the
 * store once per new name. Nothing of a request's names is kept now.
 */
class JsonItemsRetentionTest {

    @Test
    void cuttingABodyIntoEvents_keepsNoneOfItsFieldNames() {
        long before = usedAfterGc();
        for (int body = 0; body < 60; body++) {
            var split = JsonItems.split(longNames(body).getBytes(StandardCharsets.UTF_8), 1_000);
            assertThat(split).isInstanceOf(JsonItems.Split.Items.class);
        }
        long kept = usedAfterGc() - before;
        assertThat(kept).as("60 bodies of 20 distinct long names kept about 120 MB").isLessThan(32L << 20);
    }

    /** {"id":"n","<49,000 characters, distinct>":0, … 20 of them}. */
    private static String longNames(int body) {
        var json = new StringBuilder("{\"id\":\"").append(body).append('"');
        for (int name = 0; name < 20; name++) {
            String prefix = body + "-" + name + "-";
            json.append(",\"").append(prefix).append("n".repeat(49_000 - prefix.length())).append("\":0");
        }
        return json.append('}').toString();
    }

    private static long usedAfterGc() {
        var runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }
}
