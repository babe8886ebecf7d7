package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The file's side of {@link HttpToKafkaExampleIT}, without a broker or a process. */
class HttpToKafkaExampleTest {

    @Test // a review: the example said unmatched: ignore, so an event no route took was answered 200 and written nowhere
    void httpToKafka_deadLettersAnEventNoRouteMatches_soItsRequestIsAnsweredWithWhy() {
        var config = ConfigReaderTest.read("http-to-kafka.yaml", Map.of("INGEST_TOKEN", "s3cret"));
        assertThat(config.deadLetterUnmatched()).isTrue();
    }
}
