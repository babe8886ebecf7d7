package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** What a release keeps of a key's parked dead letters between reading them and producing them back. */
class ParkedRecordsTest {

    private static final Instant SINCE = Instant.now().minusSeconds(60);
    private static final ParkedGroup PARKED = new ParkedGroup("orders", "K", "k0", "m0", "refused", SINCE, SINCE, 20, 0, "T",
            0, 0, false, 1);

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A dead letter at {@code offset} of t.dlq-0, from t-0@{@code offset}, with {@code mark} as its release mark. */
    private static ConsumerRecord<byte[], byte[]> copy(long offset, String key, String reason, String mark, byte[] value) {
        var headers = new RecordHeaders().add(DeadLetterAttributes.REASON, bytes(reason))
                .add(DeadLetterAttributes.SOURCE, bytes("t")).add(KafkaSource.PARTITION, bytes("0"))
                .add(KafkaSource.OFFSET, bytes(Long.toString(offset)));
        if (mark != null) {
            headers.add(GroupParker.RELEASE_ATTRIBUTE, bytes(mark));
        }
        return new ConsumerRecord<>("t.dlq", 0, offset, System.currentTimeMillis(), TimestampType.CREATE_TIME, 1, value.length,
                bytes(key), value, headers, Optional.empty());
    }

    /** Offers the key's 20 parked records of 256 KB each (and one of another key); what reaches their values. */
    private static List<WeakReference<byte[]>> offered(ParkedRecords records) {
        var values = new ArrayList<WeakReference<byte[]>>();
        for (int i = 0; i < 20; i++) {
            var value = new byte[256 * 1024];
            values.add(new WeakReference<>(value));
            records.offer(copy(i, "K", i == 0 ? GroupParker.at(PARKED) : GroupParker.behind(PARKED), i == 3 ? "T#1" : "U#1",
                    value));
        }
        records.offer(copy(20, "other", GroupParker.behind(PARKED), null, new byte[1]));
        return values;
    }

    @Test // a review: a release held every parked record of its key, values too, until the last went back — 200,000 of 5 KB
          // and the heap of `ferry run` ran out in the console's release
    void whatTheReadKeeps_isWhereTheRecordsAre_notTheirValues() throws Exception {
        var records = new ParkedRecords(PARKED, "T");
        var values = offered(records);

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (held(values) > 0 && System.nanoTime() - deadline < 0) {
            System.gc();
            Thread.sleep(50);
        }
        assertThat(held(values)).as("values still reachable of the 20 read").isZero();

        var ordered = records.ordered();
        assertThat(ordered).extracting(ParkedRecords.Parked::offset).as("the key's, in order")
                .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L);
        assertThat(ordered).filteredOn(ParkedRecords.Parked::head).extracting(ParkedRecords.Parked::offset).containsExactly(0L);
        assertThat(ordered).filteredOn(ParkedRecords.Parked::sentBackByThis).as("the one with this release's mark")
                .extracting(ParkedRecords.Parked::offset).containsExactly(3L);
    }

    private static long held(List<WeakReference<byte[]>> values) {
        return values.stream().filter(r -> r.get() != null).count();
    }
}
