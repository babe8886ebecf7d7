package dev.ferry.adapters.http;

import dev.ferry.adapters.http.IngestAnswers.Answer;
import dev.ferry.adapters.http.IngestRequest.Item;
import dev.ferry.domain.transport.Disposition;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.zip.CRC32;

/**
 * The dead letters of events sent under an {@code Idempotency-Key} that came after their request was answered 'retry'
 * (a handler that outlasts the response timeout): their client never heard them. The listener took each one and
 * forgot the event's failures, so the resend under its key ran again from failure 1 — a poison event tried for ever,
 * its 422 never said; a slow Reject lost on each resend. Noted here by key, with the reason and the body's
 * fingerprint (length and CRC32), a resend of that key and body is answered at once the 422 its first request would
 * have heard, unrun; another body under the key is another event and goes on to the listener, as does a batch (its
 * events are answered and handed out together; its resend holds only those answered 'retry').
 *
 * <p>The dead letter is taken all the same. Reported not carried out instead, the listener counted each as a dead
 * letter that failed, warned, and with none taken for two leases said itself unready ("every dead letter sent to the
 * source has failed"): a slowdown took every replica out of the balancer.
 *
 * <p>A copy may still run in this instance when its resend is answered here: a client that sent again on its 429
 * while the first copy ran has two in hand at once, and nothing in the source, nor a listener without a ledger,
 * keeps copies of one key apart. The 422 says what became of the copy dead-lettered; the other one's end goes to
 * its own request, answered already, as it did before this. Should that end be done, its Ack forgets the dead letter:
 * the next resend goes on to the listener (with a ledger, dropped as done: 200).
 *
 * <p>Bounded: {@link #MAX_KEYS} keys at most, the one noted longest ago forgotten first, each for {@link #KEPT} at
 * most, its reason cut at {@link #MAX_REASON} characters — with keys of 1,024 characters at most, 30 to 60 MB at
 * worst. Noted for a request of one event only: a batch's are never looked for. Noted on the listener's settling
 * thread, read on the server's ({@link RememberedKeys} is thread-safe).
 */
final class UnheardDeadLetters {

    static final int MAX_KEYS = 10_000;
    /** Long enough for a client's retries; a resend after it runs again, as before. */
    static final Duration KEPT = Duration.ofHours(1);
    /** The reason kept, in characters: as much as the journal keeps. */
    static final int MAX_REASON = 2_000;

    /** A dead letter unheard: its body's fingerprint, its reason as the caller is told it. */
    private record Unheard(long fingerprint, String told) {
    }

    /** By key. */
    private final RememberedKeys<Unheard> byKey;

    UnheardDeadLetters() {
        this(System::nanoTime);
    }

    UnheardDeadLetters(LongSupplier nanoTime) {
        this.byKey = new RememberedKeys<>(MAX_KEYS, KEPT.toNanos(), nanoTime);
    }

    /**
     * {@code item}, under a key, was settled {@code disposition}: a dead letter after its request was answered is
     * noted; done, a dead letter of its key and body noted before is forgotten. Read after the item is settled, as
     * the endpoint marks its request abandoned before it reads the items for its answer: one of the two sees the other
     * (at worst both: the 422 said, and said again to a resend). Never throws: the settlement was carried out, and a
     * throw would have the listener take every one of the call as failed; unnoted, the resend runs, as before this.
     */
    void settled(Item item, Disposition disposition) {
        String key = item.delivery.deduplicationId();
        if (key == null || item.request.items.length > 1) { // no key: its resend is another event; a batch: never asked
            return;
        }
        try {
            if (disposition instanceof Disposition.DeadLetter dead && item.request.abandoned) {
                byKey.put(key, new Unheard(fingerprint(item.delivery.body()), told(dead.reason())));
            } else if (disposition instanceof Disposition.Ack && byKey.any()) {
                long fingerprint = fingerprint(item.delivery.body());
                byKey.removeIf(key, unheard -> unheard.fingerprint() == fingerprint);
            }
        } catch (RuntimeException | Error e) { // no memory: untold, as before this
        }
    }

    /**
     * The 422 for a request of one event under a key whose dead letter, for the same body, was noted; null otherwise.
     * Answered unrun: its dead letter is made already (see the class for a copy still running).
     */
    Answer answer(String[] dedups, JsonItems.Split.Items items) {
        // an array of one is one event too (its id the key and its digest, as noted): clients that always send arrays
        // were never told, and their poison ran for ever as before
        if (!byKey.any() || dedups == null || items.items().size() != 1) {
            return null;
        }
        Unheard unheard = byKey.get(dedups[0]);
        return unheard == null || unheard.fingerprint() != fingerprint(items.items().get(0)) ? null
                : IngestAnswers.rejected(dedups[0], unheard.told());
    }

    /** Dead letters noted now (for tests). */
    int size() {
        return byKey.size();
    }

    /** The body's length and CRC32, in one long: another body under the key is another event. */
    static long fingerprint(byte[] body) {
        var crc = new CRC32();
        crc.update(body, 0, body.length);
        return (long) body.length << 32 | crc.getValue();
    }

    /** The reason as the caller is told it ({@link CallerReasons}), cut at {@link #MAX_REASON} characters. */
    private static String told(String reason) {
        String told = CallerReasons.of(reason);
        if (told.length() <= MAX_REASON) {
            return told;
        }
        int end = Character.isHighSurrogate(told.charAt(MAX_REASON - 1)) ? MAX_REASON - 1 : MAX_REASON; // whole chars
        return told.substring(0, end) + "…";
    }
}
