package dev.ferry.domain.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The in-memory ledger when its keys' characters, not their number, fill it: room made as over the bound of entries,
 * never every new claim failed (here 4,096 characters stand for the largest array's 2^31).
 */
class InMemoryLedgerCharsTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-06T10:00:00Z"));
    private final InMemoryLedger ledger = new InMemoryLedger(clock, 1_000_000, 4_096);

    private static String key(int i) {
        return "e:orders:%036d".formatted(i); // 45 characters, as an SQS message id's key is about
    }

    private void claimAndComplete(int i, Duration ttl) {
        var claim = ledger.claim(key(i), Duration.ofSeconds(30));
        assertThat(claim).as("key %d", i).isInstanceOf(Claim.Acquired.class);
        assertThat(ledger.complete(key(i), ((Claim.Acquired) claim).token(), ttl)).isTrue();
    }

    @Test // thirty-eighth round: past the characters' bound every new claim threw until a restart, and completions past
          // their TTL were never dropped (only a write that succeeded drops them)
    void completionsPastTheirTtl_makeRoom_whenTheKeysCharactersFillTheLedger() {
        for (int i = 0; i < 91; i++) { // 4,095 characters: no room for one more
            claimAndComplete(i, Duration.ofSeconds(1));
        }
        clock.advance(Duration.ofSeconds(2));
        var claim = ledger.claim(key(1_000), Duration.ofSeconds(30));
        assertThat(claim).isInstanceOf(Claim.Acquired.class);
        assertThat(ledger.forgottenWithinTtl()).as("only completions past their TTL went").isZero();
    }

    @Test
    void theOldestLiveCompletion_isForgottenAndCounted_ratherThanEveryClaimFailing() {
        for (int i = 0; i < 200; i++) { // twice the characters the ledger takes, every completion live
            claimAndComplete(i, Duration.ofDays(7));
        }
        assertThat(ledger.forgottenWithinTtl()).as("the oldest forgotten, counted").isGreaterThanOrEqualTo(100);
        assertThat(ledger.claim(key(199), Duration.ofSeconds(30))).as("the newest kept")
                .isInstanceOf(Claim.Completed.class);
        assertThat(ledger.claim(key(0), Duration.ofSeconds(30))).as("the oldest forgotten: handled again")
                .isInstanceOf(Claim.Acquired.class);
    }

    @Test
    void claimsStillHeld_areNeverDroppedToMakeRoom_theNewClaimIsRefusedInstead() {
        for (int i = 0; i < 91; i++) {
            assertThat(ledger.claim(key(i), Duration.ofMinutes(5))).isInstanceOf(Claim.Acquired.class);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ledger.claim(key(1_000), Duration.ofSeconds(30)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("claims held");
        assertThat(ledger.claim(key(0), Duration.ofSeconds(30))).as("still held").isInstanceOf(Claim.InProgress.class);
        clock.advance(Duration.ofMinutes(6)); // run out (a crashed worker's): they make room
        assertThat(ledger.claim(key(1_000), Duration.ofSeconds(30))).isInstanceOf(Claim.Acquired.class);
    }

    @Test // a review: at the bound (the largest array's size), each new key compacted the whole array — 4 GiB copied
          // under the lock, beside the old one — to gain one key's room
    void atTheCharactersBound_theCharactersAreCompactedOncePerEighthOfTheArray_notForEachNewKey() {
        var full = InMemoryLedger.withLargestArray(clock, 1_000_000, 1 << 16); // 65,536 characters at most
        for (int i = 0; i < 10_000; i++) { // 450,000 characters: the bound passed about 8,700 times over
            var claim = (Claim.Acquired) full.claim(key(i), Duration.ofSeconds(30));
            assertThat(full.complete(key(i), claim.token(), Duration.ofDays(7))).isTrue();
        }
        assertThat(full.forgottenWithinTtl()).as("the bound reached").isGreaterThan(8_000);
        assertThat(full.compactions()).as("one per 8,192 characters of new keys, about 55").isLessThan(200);
    }
}
