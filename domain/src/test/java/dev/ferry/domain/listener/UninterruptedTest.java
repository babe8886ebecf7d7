package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.InMemoryLedger;
import dev.ferry.domain.testing.ForwardingLedger;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A completion recorded with the interrupt put aside: made, and said so, whatever an interrupt did to the first call. */
class UninterruptedTest {

    /** As the AWS SDK: the completion applied, then the interrupt seen after the answer, and the call thrown. */
    private static final class AppliedThenAborted extends ForwardingLedger {
        final AtomicInteger completes = new AtomicInteger();

        AppliedThenAborted() {
            super(InMemoryLedger.create());
        }

        @Override
        public boolean complete(String key, long token, Duration ttl) {
            boolean done = super.complete(key, token, ttl);
            if (completes.incrementAndGet() == 1) {
                Thread.currentThread().interrupt(); // the stop's, arriving while the answer was read
                throw new IllegalStateException("AbortedException: thread was interrupted", null);
            }
            return done;
        }

        @Override
        public java.util.Optional<Claim> peek(String key) {
            return ledger.peek(key);
        }
    }

    @Test // a second look at the thirty-seventh round: the second call was refused (the claim no longer held), and a
          // completion made was reported fenced — "extend the lease" — at every stop with one under way
    void aCompletionAppliedBeforeAnInterruptCutItShort_isACompletion_notAFence() {
        var ledger = new AppliedThenAborted();
        var claim = (Claim.Acquired) ledger.claim("e:orders:1", Duration.ofSeconds(30));

        boolean completed = Uninterrupted.complete(ledger, "e:orders:1", claim.token(), Duration.ofDays(1));
        boolean interrupted = Thread.interrupted(); // cleared for the tests after this one

        assertThat(ledger.completes).as("asked again").hasValue(2);
        assertThat(completed).as("the first call's completion stands").isTrue();
        assertThat(interrupted).as("the interrupt given back").isTrue();
    }

    @Test
    void aCompletionRefusedWithoutAnInterrupt_isStillRefused() {
        var ledger = InMemoryLedger.create();
        var claim = (Claim.Acquired) ledger.claim("e:orders:2", Duration.ofSeconds(30));
        assertThat(ledger.complete("e:orders:2", claim.token(), Duration.ofDays(1))).isTrue();

        assertThat(Uninterrupted.complete(ledger, "e:orders:2", claim.token() + 1, Duration.ofDays(1)))
                .as("another claim's token: fenced, though the key is completed").isFalse();
    }
}
