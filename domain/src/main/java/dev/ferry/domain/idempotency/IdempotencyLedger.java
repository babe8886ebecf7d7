package dev.ferry.domain.idempotency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Port: remembers which events' effects happened, so a duplicate delivery is handled once.
 *
 * <p>A key is absent, <em>in progress</em> (claimed with a lease that expires, so a crashed
 * worker's claim frees itself) or <em>completed</em> (kept for a TTL). Every successful claim gets
 * a fencing token larger than any earlier token for that key; {@link #complete}, {@link #release}
 * and {@link #extend} succeed only with the current token, so a worker whose lease expired (a
 * zombie) cannot overwrite the state of the worker that claimed the key after it.
 *
 * <p>Thread-safe; may be shared by many instances (DynamoDB). Store failures are thrown as
 * {@link dev.ferry.domain.model.FerryException}.
 */
public interface IdempotencyLedger {

    /** Claims {@code key} for {@code lease}, unless it is completed or held by someone else. */
    Claim claim(String key, Duration lease);

    /**
     * Claims several keys; the answers are in the same order. When one claim fails, those acquired
     * before it are released (best effort) and the failure is thrown: kept, they would hold their keys
     * until their lease ran out, and a retry of the batch would find them in progress. Stores that can
     * batch override this to save round trips, keeping that promise.
     */
    default List<Claim> claimAll(List<String> keys, Duration lease) {
        var claims = new ArrayList<Claim>(keys.size());
        try {
            for (var key : keys) {
                claims.add(claim(key, lease));
            }
        } catch (RuntimeException | Error e) {
            releaseAcquired(claims);
            throw e;
        }
        return claims;
    }

    /** Releases the claims of {@code claims} that were acquired, as far as the store lets it (for {@link #claimAll}). */
    private void releaseAcquired(List<Claim> claims) {
        for (var claim : claims) {
            if (claim instanceof Claim.Acquired a) {
                try {
                    release(a.key(), a.token());
                } catch (RuntimeException ignored) {
                    // its lease ends it
                }
            }
        }
    }

    /**
     * Marks the key completed, kept for {@code ttl}. Returns false — and changes nothing — when
     * {@code token} is not the current claim's (the lease expired and someone else claimed it).
     */
    boolean complete(String key, long token, Duration ttl);

    /** Gives the claim up so the key can be claimed again at once. False when fenced. */
    boolean release(String key, long token);

    /** Pushes the lease of a held claim out to now + {@code lease}. False when fenced or not held. */
    boolean extend(String key, long token, Duration lease);

    /**
     * {@link #extend(String, long, Duration)}, with {@code answerWithin}: the time within which an answer is still of
     * use. The claim's end as last confirmed is near: an answer that comes after it finds the claim gone, and the
     * listener, had the call failed in time, would have asked again while it held. A ledger whose call may hang (a
     * silent connection) and that can bound it should bound it by this too, and fail rather than answer late. The
     * default ignores it. A wrapper that forwards its calls forwards this one, or the bound is lost behind it.
     */
    default boolean extend(String key, long token, Duration lease, Duration answerWithin) {
        return extend(key, token, lease);
    }

    /**
     * True when {@link #complete} waits on I/O (a disk commit, a network round trip). A listener then
     * records a delivery's last completion on a thread of its own, and its worker goes on with other
     * groups meanwhile (a transport-ordered group's next delivery waits until it is recorded); the
     * delivery is acknowledged once its completion is recorded, as always. False (the default):
     * completions are recorded on the worker, in turn.
     */
    default boolean completionWaits() {
        return false;
    }

    /**
     * Makes the claims and completions made so far outlive this process, and says whether they do: true for a ledger
     * kept in a service or on disk (one that writes in batches waits for a write that covers them), false for one kept
     * in this process's memory. The listener asks before it runs what may kill the process — a message decoded past
     * its receive limit, whose mark a crash must not lose. The default: false (a ledger that does not say is not
     * counted on to outlive a crash; a ledger that writes each call through before it answers returns true).
     */
    default boolean persist() {
        return false;
    }

    /**
     * The key's state without changing it: {@link Claim.InProgress} (until when) or
     * {@link Claim.Completed} (since when); empty when absent or expired — or when the ledger cannot
     * tell (the default). For {@code ferry events show}; the listener also asks it before
     * dead-lettering a delivery for its receives (a done message's copy is not dead-lettered), but
     * the claim still decides.
     */
    default java.util.Optional<Claim> peek(String key) {
        return java.util.Optional.empty();
    }
}
