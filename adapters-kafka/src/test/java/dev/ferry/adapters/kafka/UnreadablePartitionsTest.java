package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.WakeupException;
import org.junit.jupiter.api.Test;

/**
 * Which partition a failed poll could not read on, from the client's own words (Kafka 4.3.1's {@code CompletedFetch}),
 * and what stopping it does to the consumer. The consumer here is the client's in-memory one; the broker's case is
 * {@code KafkaUnreadableRecordIT}.
 */
class UnreadablePartitionsTest {

    /** What the client throws from poll for a batch whose checksum does not match, word for word. */
    private static KafkaException checksumMismatch(TopicPartition tp, long offset) {
        return new KafkaException("Received exception when fetching the next record from " + tp
                + ". If needed, please seek past the record to continue consumption.",
                new KafkaException("Record batch for partition " + tp + " at offset " + offset
                        + " is invalid, cause: Record is corrupt (stored crc = 1, computed crc = 2)"));
    }

    @Test
    void thePartition_isFoundAmongTheAssignedOnes_whateverDashesAndDotsItsTopicsNameHolds() {
        var named = new TopicPartition("orders.eu-west-1", 12);
        var assigned = Set.of(new TopicPartition("orders.eu-west-1", 1), new TopicPartition("orders.eu-west-1-1", 2), named);

        assertThat(UnreadablePartitions.partitionOf(checksumMismatch(named, 7), assigned)).contains(named);
        // a batch the client cannot even parse: the cause is the client's CorruptRecordException itself
        var unparsable = new KafkaException("Received exception when fetching the next record from " + named
                + ". If needed, please seek past the record to continue consumption.",
                new CorruptRecordException("Record size 0 is less than the minimum record overhead (14)"));
        assertThat(UnreadablePartitions.partitionOf(unparsable, assigned)).contains(named);
    }

    @Test
    void damageTheBrokerFoundItself_namesThePartitionAtTheEnd() {
        // an owner that starts at the damaged batch: the broker cannot read its header and answers CORRUPT_MESSAGE
        var named = new TopicPartition("orders.eu-west-1", 12);
        var assigned = Set.of(new TopicPartition("orders.eu-west-1", 1), named);
        var found = new KafkaException("Encountered corrupt message when fetching offset 3 for topic-partition " + named);
        assertThat(UnreadablePartitions.partitionOf(found, assigned)).contains(named);
        assertThat(UnreadablePartitions.partitionOf(new KafkaException("Encountered corrupt message when fetching offset 3"),
                assigned)).as("no partition named").isEmpty();
    }

    @Test
    void aCodecThatCannotLoad_stopsThePartition_withoutCallingTheRecordsDamaged() {
        // zstd-jni unpacks its native code into java.io.tmpdir: read-only, the client wraps the Error as an unreadable record
        var tp = new TopicPartition("orders", 0);
        var unreadable = new UnreadablePartitions("orders-source");
        try (var consumer = new MockConsumer<byte[], byte[]>("earliest")) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 5);
            var codec = new KafkaException("Received exception when fetching the next record from " + tp
                    + ". If needed, please seek past the record to continue consumption.",
                    new KafkaException(new UnsatisfiedLinkError("Cannot unpack libzstd-jni-1.5.7-6: Read-only file system")));

            assertThat(unreadable.stop(consumer, codec)).isTrue();

            assertThat(consumer.paused()).containsExactly(tp);
            assertThat(unreadable.problem()).contains("stopped at offset 5").contains("cannot be decompressed")
                    .contains("UnsatisfiedLinkError").doesNotContain("cannot be read");
        }
    }

    @Test // a review: an OutOfMemoryError the codec wrapped stopped the partition until a restart, "the codec failing to load"
    void aMomentsOutOfMemoryError_wrappedByTheCodec_isLeftToTheCaller_untilTheSameRecordFailsSoThreeTimes() {
        var tp = new TopicPartition("orders", 0);
        var unreadable = new UnreadablePartitions("orders-source");
        try (var consumer = new MockConsumer<byte[], byte[]>("earliest")) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 5);
            var memory = new KafkaException("Received exception when fetching the next record from " + tp
                    + ". If needed, please seek past the record to continue consumption.",
                    new KafkaException(new OutOfMemoryError("Java heap space")));

            assertThat(unreadable.stop(consumer, memory)).isFalse();

            assertThat(consumer.paused()).isEmpty();
            assertThat(unreadable.problem()).isNull();
            // the same record failing so each time (a batch that inflates past the heap): replaced for ever, a rebalance
            // each time, were it not stopped at
            assertThat(unreadable.stop(consumer, memory)).as("twice").isFalse();
            assertThat(unreadable.stop(consumer, memory)).as("three times in a row").isTrue();
            assertThat(consumer.paused()).containsExactly(tp);
            assertThat(unreadable.problem()).contains("stopped at offset 5").contains("memory")
                    .doesNotContain("cannot be decompressed");
        }
    }

    @Test
    void nothingIsFound_forAPartitionNotAssigned_norForAnyOtherFailure() {
        var tp = new TopicPartition("orders", 0);
        var assigned = Set.of(tp);

        assertThat(UnreadablePartitions.partitionOf(checksumMismatch(new TopicPartition("orders", 1), 3), assigned)).isEmpty();
        assertThat(UnreadablePartitions.partitionOf(new WakeupException(), assigned)).isEmpty();
        assertThat(UnreadablePartitions.partitionOf(new KafkaException("Error deserializing KEY for partition orders-0 at "
                + "offset 3. If needed, please seek past the record to continue consumption."), assigned)).isEmpty();
        assertThat(UnreadablePartitions.partitionOf(new KafkaException("Received exception when fetching the next "
                + "record from orders-0"), assigned)).as("not the client's whole sentence").isEmpty();
    }

    @Test
    void aStop_pausesThePartitionWhereItStands_namesItInTheProblem_andNoBufferResumesIt_untilItGoes() {
        var stopped = new TopicPartition("orders", 0);
        var other = new TopicPartition("orders", 1);
        var unreadable = new UnreadablePartitions("orders-source");
        try (var consumer = new MockConsumer<byte[], byte[]>("earliest")) {
            consumer.assign(List.of(stopped, other));
            consumer.seek(stopped, 3);

            assertThat(unreadable.stop(consumer, checksumMismatch(stopped, 3))).isTrue();

            assertThat(consumer.paused()).containsExactly(stopped);
            assertThat(unreadable.problem()).contains("partition orders-0 is stopped at offset 3")
                    .contains("Record is corrupt").doesNotContain("orders-1");
            assertThat(unreadable.notStopped(consumer.paused())).as("not for the buffers to resume").isEmpty();
            assertThat(unreadable.stop(consumer, checksumMismatch(stopped, 3)))
                    .as("read again while stopped: its pause did not hold, the caller replaces the consumer").isFalse();

            unreadable.forget(List.of(stopped));
            assertThat(unreadable.problem()).isNull();
            assertThat(unreadable.notStopped(consumer.paused())).containsExactly(stopped);
        }
    }

    @Test
    void aFailureOfAnotherKind_isLeftToTheCaller_andNothingIsPaused() {
        var unreadable = new UnreadablePartitions("orders-source");
        try (var consumer = new MockConsumer<byte[], byte[]>("earliest")) {
            consumer.assign(List.of(new TopicPartition("orders", 0)));

            assertThat(unreadable.stop(consumer, new KafkaException("broker gone"))).isFalse();

            assertThat(consumer.paused()).isEmpty();
            assertThat(unreadable.problem()).isNull();
        }
    }

    // A unit test: the race (a partition revoked, under group.protocol consumer, between the poll's throw and the stop)
    // cannot be made to happen on purpose with a broker.
    @Test // a review: a partition that went between the poll's throw and the stop replaced the consumer (a rebalance)
    void aPartitionNamedThatIsNoLongerAssigned_isLeftToItsNextOwner_once_andNothingIsPausedNorSaid() {
        var unreadable = new UnreadablePartitions("orders-source");
        var gone = new TopicPartition("orders", 5);
        try (var consumer = new MockConsumer<byte[], byte[]>("earliest")) {
            consumer.assign(List.of(new TopicPartition("orders", 0)));

            assertThat(unreadable.stop(consumer, checksumMismatch(gone, 3)))
                    .as("handled: its next owner meets the record itself, this consumer stays").isTrue();
            assertThat(consumer.paused()).isEmpty();
            assertThat(unreadable.problem()).isNull();

            unreadable.forget(List.of(gone));       // assigned here again since (and revoked again as the client threw)
            assertThat(unreadable.stop(consumer, checksumMismatch(gone, 3))).as("a new race: left again").isTrue();

            assertThat(unreadable.stop(consumer, checksumMismatch(gone, 3)))
                    .as("named again while not assigned here: not a partition gone; the caller replaces the consumer")
                    .isFalse();
            assertThat(consumer.paused()).isEmpty();
            assertThat(unreadable.problem()).isNull();
        }
    }
}
