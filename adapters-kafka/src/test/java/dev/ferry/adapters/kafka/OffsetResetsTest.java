package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.LogTruncationException;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Where a partition is read from when the client, run with {@code auto.offset.reset: none}, throws instead of moving
 * it: each case the client's {@code earliest} would have handled, and what is said of it. The consumer here is the
 * client's in-memory one (its reset strategy {@code none}, as the source's is); the broker's case is
 * {@code KafkaRetentionIT}, which cannot cut a log back.
 */
class OffsetResetsTest {

    private final TopicPartition tp = new TopicPartition("orders", 0);
    private final OffsetResets resets = new OffsetResets("orders-source", Map.of("auto.offset.reset", "earliest"));

    /** A consumer of {@code tp} at {@code position}, whose log now holds offsets {@code first} up to {@code end}. */
    private MockConsumer<byte[], byte[]> consumerAt(long position, long first, long end) {
        var consumer = new MockConsumer<byte[], byte[]>("none");
        consumer.assign(List.of(tp));
        consumer.seek(tp, position);
        consumer.updateBeginningOffsets(Map.of(tp, first));
        consumer.updateEndOffsets(Map.of(tp, end));
        return consumer;
    }

    @Test
    void theConsumerRunsWithNone_whereTheUserChoseEarliest_andEveryOtherChoiceIsLeftAsItWas() {
        var ours = new OffsetResets("s", Map.of("auto.offset.reset", " earliest ", "client.id", "c"));
        assertThat(ours.consumerConfig()).containsEntry("auto.offset.reset", "none").containsEntry("client.id", "c");
        assertThat(new OffsetResets("s", Map.of("auto.offset.reset", "none")).consumerConfig())
                .containsEntry("auto.offset.reset", "none");
        assertThat(new OffsetResets("s", Map.of("auto.offset.reset", "latest")).consumerConfig())
                .as("given to the builder: the client's own reset").containsEntry("auto.offset.reset", "latest");
    }

    @Test
    void aGroupsFirstReadOfAPartition_startsAtItsFirstRecord_withoutAWord() {
        try (var log = new CapturedLog(); var consumer = new MockConsumer<byte[], byte[]>("none")) {
            consumer.assign(List.of(tp));
            consumer.updateBeginningOffsets(Map.of(tp, 7L));

            assertThat(resets.reset(consumer, new NoOffsetForPartitionException(tp))).isTrue();

            assertThat(consumer.position(tp)).isEqualTo(7);
            assertThat(log.lines).as("nothing was lost").isEmpty();
        }
    }

    @Test
    void aPositionBelowTheFirstRecord_movesToIt_andTheRecordsDeletedBetweenAreNamedInAWarning() {
        try (var log = new CapturedLog(); var consumer = consumerAt(5, 15, 20)) {
            assertThat(resets.reset(consumer, new OffsetOutOfRangeException(Map.of(tp, 5L)))).isTrue();

            assertThat(consumer.position(tp)).isEqualTo(15);
            assertThat(log.lines).singleElement().asString().contains("'orders-source'").contains("orders-0")
                    .contains("offsets 5 to 14 (10 records) were deleted").contains("lost");
        }
    }

    @Test
    void aPositionPastTheEnd_isReadAgainFromTheFirstRecord_asEarliestDoes_notFromTheEnd() {
        try (var log = new CapturedLog(); var consumer = consumerAt(30, 3, 20)) {
            assertThat(resets.reset(consumer, new OffsetOutOfRangeException(Map.of(tp, 30L)))).isTrue();

            assertThat(consumer.position(tp)).as("the end would skip what was written since the cut").isEqualTo(3);
            assertThat(log.lines).singleElement().asString().contains("orders-0").contains("offset 30")
                    .contains("not in the log as it was (past its end, now 20)").contains("from its first offset, 3");
        }
    }

    @Test
    void aCutFoundByTheLeaderEpochs_goesOnFromTheCut_sayingWhichOffsetsTheGroupHadReadThere() {
        try (var log = new CapturedLog(); var consumer = consumerAt(30, 3, 26)) {
            var cut = new LogTruncationException(Map.of(tp, 30L), Map.of(tp, new OffsetAndMetadata(25)));

            assertThat(resets.reset(consumer, cut)).isTrue();

            assertThat(consumer.position(tp)).isEqualTo(25);
            assertThat(log.lines).singleElement().asString().contains("orders-0")
                    .contains("cut back to offset 25").contains("offsets 25 to 29");
        }
    }

    @Test // a review: a look-up that failed replaced the consumer (what it had in hand run again, the group rebalanced)
    void offsetsThatCannotBeLookedUp_moveNothing_andAreAskedAgainAtTheNextFetch_withTheSameConsumer() {
        try (var log = new CapturedLog(); var consumer = consumerAt(5, 15, 20)) {
            consumer.setOffsetsException(new TimeoutException("no answer"));
            var outside = new OffsetOutOfRangeException(Map.of(tp, 5L));

            assertThat(resets.reset(consumer, outside)).as("handled: the consumer stays").isTrue();

            assertThat(consumer.position(tp)).as("nothing moved on a guess").isEqualTo(5);
            assertThat(log.lines).isEmpty();
        }
    }

    @Test
    void aPartitionNoLongerAssigned_isLeftAlone_andOtherFailuresAreNotResets() {
        try (var log = new CapturedLog(); var consumer = consumerAt(5, 15, 20)) {
            var gone = new TopicPartition("orders", 1);

            assertThat(resets.reset(consumer, new OffsetOutOfRangeException(Map.of(gone, 5L))))
                    .as("nothing to move: its next owner meets it").isTrue();
            assertThat(resets.reset(consumer, new NoOffsetForPartitionException(gone))).isTrue();
            assertThat(resets.reset(consumer, new KafkaException("broker gone"))).isFalse();

            assertThat(consumer.position(tp)).isEqualTo(5);
            assertThat(log.lines).isEmpty();
        }
    }

    @Test
    void theUsersOwnNone_isLeftToFail() {
        var users = new OffsetResets("s", Map.of("auto.offset.reset", "none"));
        try (var consumer = consumerAt(5, 15, 20)) {
            assertThat(users.reset(consumer, new OffsetOutOfRangeException(Map.of(tp, 5L)))).isFalse();
            assertThat(users.reset(consumer, new NoOffsetForPartitionException(tp))).isFalse();
            assertThat(consumer.position(tp)).isEqualTo(5);
        }
    }
}
