package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A dead-letter topic that compacts loses dead letters (the last of each key kept; a copy without its value,
 * or a dead-lettered tombstone, deletes the others): a source writing to one is refused at start.
 */
@ExtendWith(KafkaBroker.class)
class KafkaDeadLetterTopicIT {

    @Test // a review: nothing looked at the dead-letter topic's cleanup.policy
    void aDeadLetterTopicThatCompacts_isRefusedAtStart_namingTheTopicAndTheSetting() {
        String topic = KafkaBroker.topic("dlq-compacted", 1);
        KafkaBroker.create(topic + ".dlq", 1, Map.of("cleanup.policy", "compact"));
        var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(topic)).build();
        try {
            assertThatThrownBy(source::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'" + topic + ".dlq'").hasMessageContaining("cleanup.policy=compact");
            assertThat(source.problem()).as("nothing started").hasValueSatisfying(p -> assertThat(p).contains("not started"));
        } finally {
            source.close();
        }
    }

    @Test
    void aDeadLetterTopicThatDeletes_orIsNotMadeYet_doesNotStopAStart() {
        String deletes = KafkaBroker.topic("dlq-deletes", 1);
        KafkaBroker.create(deletes + ".dlq", 1, Map.of("cleanup.policy", "delete"));
        String notYet = KafkaBroker.topic("dlq-not-yet", 1);
        try (var source = KafkaSource.builder(KafkaBroker.bootstrap(), "g-" + UUID.randomUUID(), List.of(deletes, notYet))
                .build().start()) {
            assertThat(source.problem()).isEmpty();
        }
    }
}
