package dev.ferry.domain.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class PropagationTest {

    @Test
    void headers_holdForTheCall_onItsThreadOnly_andNestedCallsRestoreTheOuterOnes() throws Exception {
        assertThat(Propagation.current()).isEmpty();
        var seen = Propagation.with(Map.of("traceparent", "outer"), () -> {
            var inner = Propagation.with(Map.of("traceparent", "inner"), () -> Propagation.current().get("traceparent"));
            try (var other = Executors.newSingleThreadExecutor()) {
                var elsewhere = other.submit(Propagation::current).get();
                assertThat(elsewhere).as("another thread sees none").isEmpty();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            return inner + "/" + Propagation.current().get("traceparent");
        });
        assertThat(seen).isEqualTo("inner/outer");
        assertThat(Propagation.current()).isEmpty();
    }

    @Test
    void aThrowingCall_leavesNothingBehind() {
        assertThatThrownBy(() -> Propagation.with(Map.of("a", "b"), () -> {
            throw new IllegalStateException("boom");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(Propagation.current()).isEmpty();
    }
}
