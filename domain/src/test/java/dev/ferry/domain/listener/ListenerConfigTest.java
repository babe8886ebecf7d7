package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ListenerConfigTest {

    @Test
    void maxInFlight_unset_keepsEveryHandlerBusyWithTwoBatchesPerPollerOnTheWay() {
        assertThat(ListenerConfig.builder().build().maxInFlight()).isEqualTo(100);
        var wide = ListenerConfig.builder().concurrency(64).pollers(4).batchSize(10).build();
        assertThat(wide.maxInFlight()).isEqualTo(64 + 2 * 4 * 10);
        assertThat(ListenerConfig.builder().concurrency(1000).pollers(64).build().maxInFlight()).isEqualTo(1000 + 2 * 64 * 10);
    }

    @Test // a review: a lease of a millisecond was taken, and every message dropped as stale on arrival, unhandled
    void aLeaseTooShortToExtend_isRefused() {
        assertThatThrownBy(() -> ListenerConfig.builder().lease(java.time.Duration.ofMillis(1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease must be at least 100 ms");
        assertThat(ListenerConfig.builder().lease(java.time.Duration.ofMillis(100)).build().lease()).hasMillis(100);
    }

    @Test
    void maxInFlight_set_isKept_andCheckedAgainstTheBatch() {
        var narrow = ListenerConfig.builder().concurrency(64).maxInFlight(20).build();
        assertThat(narrow.maxInFlight()).isEqualTo(20);
        assertThat(narrow.toBuilder().concurrency(128).build().maxInFlight()).as("an explicit window survives toBuilder")
                .isEqualTo(20);
        assertThatThrownBy(() -> ListenerConfig.builder().maxInFlight(0).build()).as("0 is not 'work it out'")
                .hasMessageContaining("maxInFlight");
        assertThatThrownBy(() -> ListenerConfig.builder().maxInFlight(5).batchSize(10).build())
                .hasMessageContaining("batchSize (10) must be <= maxInFlight (5)");
    }

    @Test // a review: toBuilder took the window worked out for a set one: 100 of 200 handler threads busy, silently,
          // and a batch of 200 refused against a maxInFlight never set
    void maxInFlight_unset_isWorkedOutAgain_afterToBuilder() {
        assertThat(ListenerConfig.defaults().toBuilder().concurrency(200).build().maxInFlight())
                .isEqualTo(ListenerConfig.builder().concurrency(200).build().maxInFlight()).isEqualTo(200 + 2 * 10);
        assertThat(ListenerConfig.defaults().toBuilder().batchSize(200).build().maxInFlight())
                .isEqualTo(ListenerConfig.builder().batchSize(200).build().maxInFlight()).isEqualTo(16 + 2 * 200);
        var wide = ListenerConfig.builder().concurrency(64).pollers(4).build();
        assertThat(wide.toBuilder().concurrency(8).build().maxInFlight()).as("narrower, back to the least")
                .isEqualTo(100);
    }
}
