package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.test.MapSettings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A source's {@code properties} go over Ferry's own consumer settings: three of them, copied from another consumer's
 * configuration, undid what the promise rests on without a word — records skipped, or handled twice.
 */
class KafkaSourceConfigTest {

    private static List<String> problems(Map<String, String> properties) {
        var values = new HashMap<String, String>(Map.of("bootstrap-servers", "127.0.0.1:9092", "topics.0", "orders"));
        properties.forEach((k, v) -> values.put("properties." + k, v));
        var section = new MapSettings(values);
        KafkaSourceConfig.read(section);
        return section.problems();
    }

    @Test
    void autoOffsetResetLatest_isRefused_sayingWhatItWouldSkip() {
        assertThat(problems(Map.of("auto.offset.reset", "latest"))).singleElement().asString()
                .startsWith("properties: 'auto.offset.reset: latest' would skip").contains("--to-latest");
        assertThat(problems(Map.of("auto.offset.reset", "earliest"))).isEmpty();
        assertThat(problems(Map.of("auto.offset.reset", "none"))).as("fails, skips nothing").isEmpty();
    }

    @Test // the consumer read another cluster than every check, release and test event: a sink into the source's own
          // topic went unrefused (a loop), a release read the wrong cluster
    void bootstrapServersInProperties_isRefused_forBootstrapServersSaysIt() {
        assertThat(problems(Map.of("bootstrap.servers", "elsewhere:9092"))).singleElement().asString()
                .contains("'bootstrap.servers'").contains("bootstrap-servers");
        var sink = new MapSettings(Map.of("bootstrap-servers", "127.0.0.1:9092", "topic", "out",
                "properties.bootstrap.servers", "elsewhere:9092"));
        KafkaSinkConfig.read(sink);
        assertThat(sink.problems()).singleElement().asString().contains("'bootstrap.servers'");
    }

    @Test
    void readUncommitted_isRefused() {
        assertThat(problems(Map.of("isolation.level", "read_uncommitted"))).singleElement().asString()
                .contains("aborted transactions");
        assertThat(problems(Map.of("isolation.level", "read_committed"))).isEmpty();
    }

    @Test
    void anEagerAssignor_isRefused_theCooperativeOneRestatedIsNot() {
        assertThat(problems(Map.of("partition.assignment.strategy",
                "org.apache.kafka.clients.consumer.RangeAssignor, org.apache.kafka.clients.consumer.CooperativeStickyAssignor")))
                .singleElement().asString().contains("RangeAssignor").contains("run twice");
        assertThat(problems(Map.of("partition.assignment.strategy",
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"))).isEmpty();
    }

    @Test // a review: a group of RangeAssignor members (an older Ferry's, set so) could take no member of this one, and
          // the list Kafka's rolling move off an eager assignor needs (KIP-429) was refused: only a whole-group stop
    void theCooperativeAssignorFirst_withTheOldOneAfterIt_isTakenForARollingMove_andItsSecondRoundSaid() {
        try (var log = new CapturedLog()) {
            assertThat(problems(Map.of("partition.assignment.strategy",
                    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor, org.apache.kafka.clients.consumer.RangeAssignor")))
                    .isEmpty();
            // a review: a consumer keeps the protocol all its assignors support — eager, for as long as Range is listed
            assertThat(log.lines).singleElement().asString().contains("rebalances eagerly").contains("second round");
            assertThat(problems(Map.of("partition.assignment.strategy", "cooperative-sticky,"
                    + "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"))).isEmpty();
            assertThat(log.lines).as("the cooperative one alone, restated: nothing to say").hasSize(1);
        }
        assertThat(problems(Map.of("partition.assignment.strategy", " , range, cooperative-sticky"))).singleElement()
                .asString().contains("names range first").contains("list it after CooperativeStickyAssignor");
    }

    @Test // a review: a sink's group spread over partitions, a release's records of one key sent back to several
    void partitionerSettingsThatSpreadAKey_areRefused_forTheSourceTheSinkAndInCode() {
        assertThat(problems(Map.of("partitioner.ignore.keys", "true"))).singleElement().asString()
                .contains("'partitioner.ignore.keys: true'").contains("out of order");
        assertThat(problems(Map.of("partitioner.class", "org.apache.kafka.clients.producer.RoundRobinPartitioner")))
                .singleElement().asString().contains("RoundRobinPartitioner");
        assertThat(problems(Map.of("partitioner.ignore.keys", "false"))).isEmpty();
        var sink = new MapSettings(Map.of("bootstrap-servers", "127.0.0.1:9092", "topic", "out",
                "properties.partitioner.ignore.keys", "true"));
        KafkaSinkConfig.read(sink);
        assertThat(sink.problems()).singleElement().asString().contains("'partitioner.ignore.keys: true'");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KafkaSink.builder("127.0.0.1:9092", "out")
                        .config("partitioner.class", org.apache.kafka.clients.producer.RoundRobinPartitioner.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RoundRobinPartitioner");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> KafkaSource.builder("127.0.0.1:9092", "g", List.of("t"))
                        .producerConfig("partitioner.ignore.keys", true).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dead-letter producer's 'partitioner");
    }

    @Test
    void otherProperties_passAsTheyAre() {
        assertThat(problems(Map.of("security.protocol", "SSL", "max.poll.records", "100"))).isEmpty();
    }

    @Test // a review: the properties went to both clients; a consumer's interceptor there made the dead-letter producer
          // refuse to start ("not an instance of ProducerInterceptor"), and a producer's the consumer
    void interceptorClasses_goEachToTheClientOfTheirKind_thoseOfBothKindsOrUnknownToBoth() {
        var properties = Map.of("interceptor.classes", String.join(" , ", ErrorOnceInterceptor.class.getName(),
                CountingInterceptor.class.getName(), ReleaseInterceptor.class.getName(), "com.example.NotThere"),
                "security.protocol", "SSL");
        assertThat(ClientConfigs.forConsumer(properties)).containsEntry("security.protocol", "SSL")
                .containsEntry("interceptor.classes", String.join(",", ErrorOnceInterceptor.class.getName(),
                        ReleaseInterceptor.class.getName(), "com.example.NotThere"));
        assertThat(ClientConfigs.forProducer(properties)).containsEntry("security.protocol", "SSL")
                .containsEntry("interceptor.classes", String.join(",", CountingInterceptor.class.getName(),
                        ReleaseInterceptor.class.getName(), "com.example.NotThere"));
        assertThat(ClientConfigs.forProducer(Map.of("interceptor.classes", ErrorOnceInterceptor.class.getName())))
                .as("none of its kind left").doesNotContainKey("interceptor.classes");
    }
    @Test // a review: the embedder's builder took what the YAML refuses (records of aborted transactions, an eager assignor)
    void theBuilder_refusesWhatTheConfigurationRefuses_andTakesFerrysOwnChoicesRestated() {
        var builder = KafkaSource.builder("127.0.0.1:9", "g", List.of("orders"));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> builder.consumerConfig("isolation.level", "read_uncommitted"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("aborted transactions");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> builder.consumerConfig("partition.assignment.strategy",
                List.of(org.apache.kafka.clients.consumer.RangeAssignor.class))).hasMessageContaining("eager assignor");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> builder.consumerConfig("auto.offset.reset", "latest"))
                .hasMessageContaining("would skip");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> builder.consumerConfig("enable.auto.commit", true))
                .hasMessageContaining("stays off");

        builder.consumerConfig("isolation.level", "read_committed")
                .consumerConfig("partition.assignment.strategy",
                        List.of(org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class))
                .consumerConfig("auto.offset.reset", "earliest")
                .consumerConfig("client.id", "mine");
    }
}
