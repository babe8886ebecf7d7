package dev.ferry.domain.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link IdempotencyLedger} keeps. An implementation's test extends this and
 * supplies a ledger reading time from the given clock.
 */
public abstract class LedgerContract {

    protected static final Duration LEASE = Duration.ofSeconds(30);
    protected static final Duration TTL = Duration.ofHours(1);
    /**
     * The time an extension's answer is of use in, as the listener's lease keeper gives it (half of what is left of
     * the claim: ClaimLeases). Its extensions go through the four-argument
     * {@link IdempotencyLedger#extend(String, long, Duration, Duration)}, which a ledger may override (DynamoDB's
     * does), so each refusal below is asked both ways.
     */
    protected static final Duration ANSWER_WITHIN = LEASE.dividedBy(2);

    protected MutableClock clock;
    protected IdempotencyLedger ledger;

    /** A fresh, empty ledger that reads time from {@code clock}. */
    protected abstract IdempotencyLedger newLedger(MutableClock clock);

    @BeforeEach
    void setUpLedger() {
        // today, not a fixed date: a ledger on a real server (DynamoDB Local) has its own TTL sweeper on the
        // real clock, which deletes items whose expiry already passed in real time
        clock = new MutableClock(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        ledger = newLedger(clock);
    }

    protected static String key() {
        return "evt-" + UUID.randomUUID();
    }

    @Test
    void claim_ofNewKey_isAcquired_withLeaseFromNow() {
        var key = key();
        var claim = ledger.claim(key, LEASE);
        assertThat(claim).isInstanceOf(Claim.Acquired.class);
        var acquired = (Claim.Acquired) claim;
        assertThat(acquired.key()).isEqualTo(key);
        assertThat(acquired.leaseUntil()).isEqualTo(clock.instant().plus(LEASE));
    }

    /**
     * Keys are compared byte for byte: a store that folds case, accents or trailing blanks (a SQL collation), or
     * cuts or refuses a NUL, took one event for another's duplicate and acked it unrun. Every key Ferry sends is well
     * formed Unicode of at most {@link dev.ferry.domain.idempotency.LedgerKeys#MAX_LENGTH} UTF-8 bytes.
     */
    @Test
    void keysThatDifferOnlyInCaseAccentsBlanksOrANul_areDistinct_andTheLongestKeyIsKept() {
        String base = "e:6:orders:" + UUID.randomUUID() + "-Abc";
        var done = (Claim.Acquired) ledger.claim(base, LEASE);
        assertThat(ledger.complete(base, done.token(), TTL)).isTrue();
        String lower = base.substring(0, base.length() - 3) + "abc";
        String accented = base.substring(0, base.length() - 3) + "\u00c4bc";
        for (String other : List.of(lower, base + " ", accented, base + "\u0000")) {
            assertThat(ledger.claim(other, LEASE)).as("'%s' is not '%s'", other, base).isInstanceOf(Claim.Acquired.class);
        }
        String prefix = "e:1:s:" + UUID.randomUUID() + ":";
        String longest = prefix + "\u00e9".repeat((dev.ferry.domain.idempotency.LedgerKeys.MAX_LENGTH - prefix.length()) / 2);
        var claim = (Claim.Acquired) ledger.claim(longest, LEASE);
        assertThat(ledger.complete(longest, claim.token(), TTL)).isTrue();
        assertThat(ledger.claim(longest, LEASE)).isInstanceOf(Claim.Completed.class);
        assertThat(ledger.claim(longest.substring(0, longest.length() - 1), LEASE)).as("one character less is another key")
                .isInstanceOf(Claim.Acquired.class);
    }

    /**
     * {@code peek} may not know (empty), but what it says is true: a released key is held by no one, and a completion
     * past its TTL is not done. The listener asks it before dead-lettering a copy for its receives: a ledger that still
     * said "completed" of an expired key never dead-lettered a poison message past its receive limit.
     */
    @Test
    void peek_neverSaysAReleasedKeyIsHeld_norAnExpiredOneDone() {
        var key = key();
        var first = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(ledger.release(key, first.token())).isTrue();
        assertThat(ledger.peek(key)).as("released").isEmpty();
        var second = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(ledger.complete(key, second.token(), TTL)).isTrue();
        assertThat(ledger.peek(key)).as("done, or not known").satisfiesAnyOf(
                p -> assertThat(p).isEmpty(), p -> assertThat(p).containsInstanceOf(Claim.Completed.class));
        clock.advance(TTL.plusMinutes(1));
        assertThat(ledger.peek(key)).as("past its TTL").isEmpty();
    }

    @Test
    void claim_whileHeld_isInProgress_untilTheLeaseEnds() {
        var key = key();
        ledger.claim(key, LEASE);
        clock.advance(Duration.ofSeconds(10));
        var second = ledger.claim(key, LEASE);
        assertThat(second).isInstanceOf(Claim.InProgress.class);
        assertThat(((Claim.InProgress) second).leaseUntil()).isEqualTo(clock.instant().plus(Duration.ofSeconds(20)));
    }

    @Test
    void claim_afterComplete_isCompleted() {
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(ledger.complete(key, a.token(), TTL)).isTrue();
        var again = ledger.claim(key, LEASE);
        assertThat(again).isInstanceOf(Claim.Completed.class);
        assertThat(((Claim.Completed) again).completedAt()).isEqualTo(clock.instant());
    }

    @Test
    void claim_whenLeaseExpired_isReacquired_withLargerToken() {
        var key = key();
        var first = (Claim.Acquired) ledger.claim(key, LEASE);
        clock.advance(LEASE.plusSeconds(1));
        var second = ledger.claim(key, LEASE);
        assertThat(second).isInstanceOf(Claim.Acquired.class);
        assertThat(((Claim.Acquired) second).token()).isGreaterThan(first.token());
    }

    @Test
    void complete_byZombieWhoseLeaseExpired_isFenced() {
        var key = key();
        var zombie = (Claim.Acquired) ledger.claim(key, LEASE);
        clock.advance(LEASE.plusSeconds(1));
        var current = (Claim.Acquired) ledger.claim(key, LEASE);

        assertThat(ledger.complete(key, zombie.token(), TTL)).as("the zombie's completion").isFalse();
        assertThat(ledger.release(key, zombie.token())).as("the zombie's release").isFalse();
        assertNotExtended(key, zombie.token(), "the zombie's extension");
        assertThat(ledger.claim(key, LEASE)).as("still held by the current worker").isInstanceOf(Claim.InProgress.class);
        assertThat(ledger.complete(key, current.token(), TTL)).isTrue();
    }

    @Test
    void complete_afterOwnLeaseExpiredButNobodyReclaimed_isAccepted() {
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        clock.advance(LEASE.plusSeconds(1));
        assertThat(ledger.complete(key, a.token(), TTL)).isTrue();
        assertThat(ledger.claim(key, LEASE)).isInstanceOf(Claim.Completed.class);
    }

    @Test
    void complete_keptForEver_staysCompleted_andAnAlmostEndlessTtlDoesNotOverflowIntoThePast() {
        // a TTL of "for ever" (ChronoUnit.FOREVER, which ListenerConfig accepts) threw or wrapped past the end of time
        var forever = (Claim.Acquired) ledger.claim("forever-" + key(), LEASE);
        assertThat(ledger.complete(forever.key(), forever.token(), java.time.temporal.ChronoUnit.FOREVER.getDuration())).isTrue();
        var huge = (Claim.Acquired) ledger.claim("huge-" + key(), LEASE);
        assertThat(ledger.complete(huge.key(), huge.token(), Duration.ofMillis(Long.MAX_VALUE))).isTrue();
        clock.advance(Duration.ofDays(3650));
        assertThat(ledger.claim(forever.key(), LEASE)).isInstanceOf(Claim.Completed.class);
        assertThat(ledger.claim(huge.key(), LEASE)).isInstanceOf(Claim.Completed.class);
    }

    @Test
    void claimAll_thatFailsPartWay_releasesWhatItAcquired() {
        // the keys acquired before the failure were held until their lease ran out: a retry of the batch found them
        // in progress (its own claims)
        var first = "first-" + key();
        assertThatThrownBy(() -> ledger.claimAll(java.util.Arrays.asList(first, null), LEASE))
                .isInstanceOf(RuntimeException.class);
        assertThat(ledger.claim(first, LEASE)).isInstanceOf(Claim.Acquired.class);
    }

    @Test
    void complete_twice_secondIsRefused() {
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(ledger.complete(key, a.token(), TTL)).isTrue();
        assertThat(ledger.complete(key, a.token(), TTL)).isFalse();
    }

    @Test
    void release_letsTheKeyBeClaimedAtOnce() {
        // the lease keeper extends on a thread of its own, so an extension can land just after the release: a ledger
        // that checks the token and the lease only made the released key held again, and its next copy waited a lease
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(ledger.release(key, a.token())).isTrue();
        assertNotExtended(key, a.token(), "extension of the released claim");
        assertThat(ledger.claim(key, LEASE)).isInstanceOf(Claim.Acquired.class);
    }

    /**
     * The readiness probe extends a key nobody claimed ({@code p:ferry-readiness-probe}, token 0, 1 ms: Intake) to see
     * the store take a write: it is answered false and changes nothing. A ledger that threw there kept the listener
     * unready while it worked; one that stored the key as held took a claim the probe never made.
     */
    @Test
    void extend_ofAKeyNeverClaimed_isRefused_withoutAThrow_andLeavesTheKeyFree() {
        var key = "p:ferry-readiness-probe";
        assertThat(ledger.extend(key, 0, Duration.ofMillis(1))).as("the readiness probe's extension").isFalse();
        assertNotExtended(key, 0, "extension of a key never claimed");
        assertThat(ledger.claim(key, LEASE)).as("claimable as if never asked").isInstanceOf(Claim.Acquired.class);
    }

    // #16: a release must not reset the key's token (a store that deletes the item and starts again at 1
    // would hand the next claimant the released token, and a zombie holding it could settle that claim)
    @Test
    void release_thenClaimAgain_givesALargerToken_andTheOldTokenIsFenced() {
        var key = key();
        var first = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(ledger.release(key, first.token())).isTrue();
        assertThat(ledger.release(key, first.token())).as("releasing twice").isFalse();

        var second = ledger.claim(key, LEASE);
        assertThat(second).isInstanceOf(Claim.Acquired.class);
        var current = (Claim.Acquired) second;
        assertThat(current.token()).as("the token after a release").isGreaterThan(first.token());
        assertFenced(key, first.token(), current.token());
        assertThat(ledger.complete(key, current.token(), TTL)).as("completion with the current token").isTrue();
    }

    // #16: the same across an expired lease, and a release after it
    @Test
    void expiredLease_thenClaimAgain_thenRelease_tokensOnlyGrow_andOldTokensAreFenced() {
        var key = key();
        var shortLease = Duration.ofSeconds(5);
        var first = (Claim.Acquired) ledger.claim(key, shortLease);
        clock.advance(shortLease.plusSeconds(1));

        var second = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(second.token()).as("the token after an expired lease").isGreaterThan(first.token());
        assertThat(ledger.complete(key, first.token(), TTL)).as("the expired holder's completion").isFalse();
        assertThat(ledger.release(key, first.token())).as("the expired holder's release").isFalse();
        assertNotExtended(key, first.token(), "the expired holder's extension");
        assertThat(ledger.claim(key, LEASE)).as("still held by the second claim").isInstanceOf(Claim.InProgress.class);

        assertThat(ledger.release(key, second.token())).isTrue();
        var third = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(third.token()).as("the token after a release").isGreaterThan(second.token());
        assertFenced(key, first.token(), third.token());
        assertFenced(key, second.token(), third.token());
        assertThat(ledger.complete(key, third.token(), TTL)).as("completion with the current token").isTrue();
    }

    /** Neither way of asking ({@link #ANSWER_WITHIN}) extends {@code token}'s claim of {@code key}. */
    private void assertNotExtended(String key, long token, String what) {
        assertThat(ledger.extend(key, token, LEASE)).as(what).isFalse();
        assertThat(ledger.extend(key, token, LEASE, ANSWER_WITHIN)).as(what + ", with a time to answer in").isFalse();
    }

    /** A stale token can neither complete, release nor extend, and the key stays held by {@code current}. */
    private void assertFenced(String key, long stale, long current) {
        assertThat(ledger.complete(key, stale, TTL)).as("completion with stale token " + stale).isFalse();
        assertThat(ledger.release(key, stale)).as("release with stale token " + stale).isFalse();
        assertNotExtended(key, stale, "extension with stale token " + stale);
        assertThat(ledger.claim(key, LEASE)).as("still held by token " + current).isInstanceOf(Claim.InProgress.class);
    }

    @Test
    void release_ofCompletedKey_isRefused_andKeepsItCompleted() {
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        ledger.complete(key, a.token(), TTL);
        assertThat(ledger.release(key, a.token())).isFalse();
        assertThat(ledger.claim(key, LEASE)).isInstanceOf(Claim.Completed.class);
    }

    @Test
    void extend_pushesTheLeaseOut() {
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        clock.advance(Duration.ofSeconds(25));
        assertThat(ledger.extend(key, a.token(), LEASE)).isTrue();
        clock.advance(Duration.ofSeconds(25));
        assertThat(ledger.claim(key, LEASE)).as("50 s after the claim, 25 s after the extension").isInstanceOf(Claim.InProgress.class);
        assertThat(ledger.complete(key, a.token(), TTL)).isTrue();
    }

    @Test
    void extend_afterLeaseExpired_isRefused() {
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        clock.advance(LEASE.plusSeconds(1));
        assertNotExtended(key, a.token(), "extension after the lease ran out");
    }

    @Test
    void completedKey_isForgottenAfterItsTtl_andItsNextClaimGetsALargerToken() {
        // a store that drops the expired item and counts its tokens again from the start handed the next claimant a
        // token a worker may still hold, which could settle that claim (#16, across a TTL)
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        ledger.complete(key, a.token(), TTL);
        clock.advance(TTL.minusSeconds(1));
        assertThat(ledger.claim(key, LEASE)).isInstanceOf(Claim.Completed.class);
        clock.advance(Duration.ofSeconds(2));
        var again = ledger.claim(key, LEASE);
        assertThat(again).isInstanceOf(Claim.Acquired.class);
        var current = (Claim.Acquired) again;
        assertThat(current.token()).as("the token after the completion's TTL").isGreaterThan(a.token());
        assertFenced(key, a.token(), current.token());
    }

    @Test
    void claimAll_answersInOrder() {
        var done = key();
        var held = key();
        var fresh = key();
        var d = (Claim.Acquired) ledger.claim(done, LEASE);
        ledger.complete(done, d.token(), TTL);
        ledger.claim(held, LEASE);

        var claims = ledger.claimAll(List.of(done, held, fresh), LEASE);

        assertThat(claims).extracting(Claim::key).containsExactly(done, held, fresh);
        assertThat(claims.get(0)).isInstanceOf(Claim.Completed.class);
        assertThat(claims.get(1)).isInstanceOf(Claim.InProgress.class);
        assertThat(claims.get(2)).isInstanceOf(Claim.Acquired.class);
    }

    /** What one of {@link #together}'s threads does, given its number (0 up). */
    @FunctionalInterface
    protected interface PerThread {
        void run(int thread) throws Exception;
    }

    /**
     * Runs {@code body} on {@code threads} threads released at once, and waits for all of them, at most
     * a minute each; the first failure is thrown (a thread still running past the wait fails the test).
     */
    protected static void together(int threads, PerThread body) throws Exception {
        Concurrently.together(threads, body);
    }

    @Test
    void concurrentClaims_ofOneKey_exactlyOneWins() throws Exception {
        assertThat(acquiredAtOnce(key(), 8)).isEqualTo(1);
    }

    @Test
    void concurrentClaims_ofAnExpiredLease_exactlyOneWins() throws Exception {
        // a re-claim read, then written, without a condition on what was read: two workers both take over
        var key = key();
        ledger.claim(key, LEASE);
        clock.advance(LEASE.plusSeconds(1));
        assertThat(acquiredAtOnce(key, 8)).isEqualTo(1);
    }

    @Test
    void extend_afterComplete_isRefused_andTheKeyStaysCompleted() {
        // the listener's lease keeper extends on a thread of its own, so an extension can land just after the
        // completion: a ledger that checks only the token would turn the completion back into a lease
        var key = key();
        var a = (Claim.Acquired) ledger.claim(key, LEASE);
        assertThat(ledger.complete(key, a.token(), TTL)).isTrue();
        assertNotExtended(key, a.token(), "extension after the completion");
        clock.advance(LEASE.plusSeconds(1));
        assertThat(ledger.claim(key, LEASE)).as("a lease past, the completion kept").isInstanceOf(Claim.Completed.class);
    }

    /** How many of {@code threads} claims of {@code key}, made at once, acquired it. */
    private int acquiredAtOnce(String key, int threads) throws Exception {
        var acquired = new java.util.concurrent.atomic.AtomicInteger();
        together(threads, thread -> {
            if (ledger.claim(key, LEASE) instanceof Claim.Acquired) {
                acquired.incrementAndGet();
            }
        });
        return acquired.get();
    }
}
