package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.testing.Await;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A source whose {@code bootstrap-servers} no broker answers at (a wrong port, a firewall rule missing): the start
 * warns and goes on, the client never throws from its polls, and the source stood ready for ever, its lag 0 — a rollout
 * with the bad address passed readiness everywhere and consumed nothing.
 */
class KafkaUnreachableIT {

    @Test
    void aClusterNoBrokerAnswers_isTheSourcesProblem_andItsLagIsNotZero() throws Exception {
        int closed;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = probe.getLocalPort(); // free once closed: nothing listens there
        }
        var was = ConsumerLag.unreachedFor;
        ConsumerLag.unreachedFor = Duration.ofSeconds(2);
        try (var source = KafkaSource.builder("127.0.0.1:" + closed, "g-unreached", List.of("orders")).build().start()) {
            assertThat(Await.until(Duration.ofSeconds(40), () -> source.problem().isPresent()))
                    .as("said, for readiness").isTrue();
            assertThat(source.problem().orElseThrow()).contains("no broker").contains("bootstrap-servers");
            assertThat(source.healthy()).isFalse();
            // the lag is read at the next poll
            assertThat(Await.until(Duration.ofSeconds(5), () -> source.lag() != 0)).as("not 'caught up'").isTrue();
        } finally {
            ConsumerLag.unreachedFor = was;
        }
    }

    @Test // a review of the fix: counted by open connections, a port that takes the connection and never answers (a
          // firewall that drops packets keeps a connect pending the same way) stood ready still
    void aPortThatAcceptsAndNeverAnswers_isTheSourcesProblem() throws Exception {
        var was = ConsumerLag.unreachedFor;
        ConsumerLag.unreachedFor = Duration.ofSeconds(2);
        try (var silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             var source = KafkaSource.builder("127.0.0.1:" + silent.getLocalPort(), "g-silent", List.of("orders"))
                     .build().start()) {
            assertThat(Await.until(Duration.ofSeconds(60), () -> source.problem().isPresent()))
                    .as("said, for readiness").isTrue();
            assertThat(source.problem().orElseThrow()).contains("no broker");
        } finally {
            ConsumerLag.unreachedFor = was;
        }
    }
}
