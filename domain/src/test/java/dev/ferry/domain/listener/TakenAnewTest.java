package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.testing.ForwardingLedger;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Claims taken anew for fenced completions whose completion failed are kept for the next try, up to 10,000. Kept
 * until the same key was tried again, deliveries that left without another try filled the room for good, and every
 * later one was let go of — the next try's claim could then find it taken by a copy and the effect went unrecorded.
 */
class TakenAnewTest {

    /** Completions fail while {@code down}; claims and releases work. */
    private static final class CompletionsDown extends ForwardingLedger {
        volatile boolean down = true;

        CompletionsDown() {
            super(InMemoryLedger.create());
        }

        @Override
        public java.util.Optional<Claim> peek(String key) {
            return ledger.peek(key);
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            if (down) {
                throw new FerryException("ledger unreachable (injected)", true);
            }
            return super.complete(key, token, ttl);
        }
    }

    /** The owed completions of a running listener on {@code ledger} whose claims last {@code lease}. */
    private static OwedCompletions owed(CompletionsDown ledger, Duration lease) {
        var config = ListenerTest.fast().lease(lease).build();
        return new OwedCompletions(new Processor.Shared("taken-anew", null, ledger, config, null, null, null, null, null,
                null, null, null, () -> true, null, null, null, null, false, null, null));
    }

    @Test
    void claimsWhoseLeaseRanOut_makeRoom_forANewOneToBeKept() throws Exception {
        var ledger = new CompletionsDown();
        var owed = owed(ledger, Duration.ofMillis(100));
        for (int i = 0; i < 10_000; i++) {
            String key = "left-" + i;
            assertThatThrownBy(() -> owed.recordFencedEffect(key)).isInstanceOf(FerryException.class);
        }
        Thread.sleep(150); // every claim taken so far has run out

        assertThatThrownBy(() -> owed.recordFencedEffect("late")).isInstanceOf(FerryException.class);

        assertThat(ledger.peek("late")).as("the late claim kept for its next try, not let go of")
                .get().isInstanceOf(Claim.InProgress.class);
        ledger.down = false;
        owed.recordFencedEffect("late");
        assertThat(ledger.peek("late")).get().isInstanceOf(Claim.Completed.class);
    }

    @Test
    void liveClaims_fillingTheRoom_letANewOneGo() {
        var ledger = new CompletionsDown();
        var owed = owed(ledger, Duration.ofSeconds(30));
        for (int i = 0; i < 10_000; i++) {
            String key = "held-" + i;
            assertThatThrownBy(() -> owed.recordFencedEffect(key)).isInstanceOf(FerryException.class);
        }

        assertThatThrownBy(() -> owed.recordFencedEffect("one-more")).isInstanceOf(FerryException.class);

        assertThat(ledger.peek("one-more")).as("let go of: the room is full of live claims").isEmpty();
        assertThat(ledger.peek("held-9999")).get().isInstanceOf(Claim.InProgress.class);
    }
}
