package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.testing.Await;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Commits failing in a row: the source's problem past the patience, none once one works. */
class CommitHealthTest {

    private final long patience = CommitHealth.patienceNanos;

    @AfterEach
    void restore() {
        CommitHealth.patienceNanos = patience;
    }

    @Test
    void commitsFailingPastThePatience_areAProblem_namingTheFailure_untilOneWorks() {
        CommitHealth.patienceNanos = TimeUnit.MILLISECONDS.toNanos(200);
        var health = new CommitHealth("orders");
        assertThat(health.problem()).isNull();
        health.failed(new NotEnoughReplicasException("the offsets topic is under its in-sync minimum"));
        assertThat(health.problem()).as("within the patience: a coordinator moving").isNull();
        assertThat(health.failing()).isTrue();
        assertThat(Await.until(Duration.ofSeconds(5), () -> health.problem() != null)).isTrue();
        assertThat(health.problem()).contains("Kafka source 'orders'").contains("offset commits have failed for")
                .contains("NotEnoughReplicasException").contains("read again by the next owner");
        health.failed(new NotEnoughReplicasException("again"));
        assertThat(health.problem()).as("counted from the first failure in a row").isNotNull();
        health.worked();
        assertThat(health.problem()).isNull();
        assertThat(health.failing()).isFalse();
    }
}
