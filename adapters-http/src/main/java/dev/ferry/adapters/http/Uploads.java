package dev.ferry.adapters.http;

import java.util.concurrent.Semaphore;

/**
 * The bodies being read at once: at most {@code maxUploads} of them; and the bodies held at once, read
 * or being read, at most {@code maxUploadBytes} between them — each counting what its
 * {@code Content-Length} says, or {@code maxBodyBytes} while it is read when it is chunked, until its
 * request's answer is made (and its events are settled). A request that finds no room is answered 503 at
 * once: slow senders (who need no valid signature to send a body) cannot hold more than that, nor can
 * requests waiting for their answer (the bytes of 256 bodies of 8 MiB each, given back once read, took a
 * heap of 768 MiB down).
 * The answers of requests whose events were queued count here too while they are written ({@link #answering}), at
 * most half the budget between them: bodies always have the rest. Whole answers leave room in that half for a compact
 * one, so a request still gets each event's status when they have filled it.
 */
final class Uploads {

    /** What {@link #take} answers when {@code maxUploads} bodies are being read already. */
    static final int TOO_MANY = -1;
    /** What {@link #take} answers when the body would not fit in the bytes left. */
    static final int TOO_MUCH = -2;

    private final int maxUploads;
    private final int maxBodyBytes;
    private final Semaphore count;
    private final Semaphore kib;
    /** The KiB of {@link #kib} that answers may hold at once, taken from both ({@link #answering}). */
    private final Semaphore answers;
    /** The KiB a whole answer leaves free in {@link #answers}: the compact answer to the largest request (or none). */
    private final int roomLeftForACompactAnswer;

    /** The bytes the default leaves to bodies: a quarter of the heap, for every source that did not set its own. */
    static final long SHARED_BUDGET = Runtime.getRuntime().maxMemory() / 4;
    /**
     * The default's KiB, shared by every HTTP source of the process that did not set its own budget: a quarter of the heap
     * each, two sources took half of it, four the whole, to senders who need no valid signature to hold it.
     */
    private static final Semaphore SHARED = new Semaphore(kib(SHARED_BUDGET));
    /** The answers' half of it, shared alike: a half for each source's answers, two sources' took the whole. */
    private static final Semaphore SHARED_ANSWERS = new Semaphore(kib(SHARED_BUDGET) / 2);
    /**
     * The room whole answers leave in {@link #SHARED_ANSWERS}: the largest compact answer of the sources on it. Each its
     * own, a source of fifty events left four KiB, and another's compact answer to a thousand was refused.
     */
    private static final java.util.concurrent.atomic.AtomicInteger SHARED_ROOM =
            new java.util.concurrent.atomic.AtomicInteger();

    /**
     * {@code maxUploadBytes}: the source's own budget, or {@code -1} for the process's shared one; {@code maxEvents}: the
     * most events a request may carry (the lesser of {@code maxEventsPerRequest} and {@code capacity}).
     */
    Uploads(int maxUploads, long maxUploadBytes, int maxBodyBytes, int maxEvents) {
        this(maxUploads, maxUploadBytes, maxBodyBytes, maxEvents, SHARED);
    }

    /** A test's: requests of one event each. */
    Uploads(int maxUploads, long maxUploadBytes, int maxBodyBytes) {
        this(maxUploads, maxUploadBytes, maxBodyBytes, 1);
    }

    /** With the shared budget a test's ({@code shared}: its KiB). */
    Uploads(int maxUploads, long maxUploadBytes, int maxBodyBytes, int maxEvents, Semaphore shared) {
        this.maxUploads = maxUploads;
        this.maxBodyBytes = maxBodyBytes;
        this.count = new Semaphore(maxUploads);
        // never less than one body at the limit: a budget smaller would refuse every such body for ever, answered 503.
        // And room beside it for the compact answer of the most events a request carries: with one body's room only,
        // a lone batch near the limit on an idle source was answered its counts, no results[] for its client to read
        long compact = IngestAnswers.compactBytes(maxEvents);
        long leastBudget = (long) maxBodyBytes + 2048 + compact;
        // the answers' share is never less than that compact answer as answering charges it: at the least budget half
        // is less, and a lone batch was answered its counts again
        int leastShare = kib(compact + 1024); // its bytes / 1024 + 1, bounded as kib is: past an int, no room at all
        int share;
        if (maxUploadBytes < 0 && SHARED_BUDGET >= leastBudget) {
            this.kib = shared;
            int half = (shared == SHARED ? kib(SHARED_BUDGET) : shared.availablePermits()) / 2; // a test's: half of it
            share = Math.max(half, leastShare);
            // a share of its own when that half is less than one compact answer, the budget still the shared one: given
            // a budget of its own too, such a source took a whole quarter of the heap beside the one the others share
            this.answers = shared == SHARED && half >= leastShare ? SHARED_ANSWERS : new Semaphore(share);
        } else {
            int budget = kib(Math.max(maxUploadBytes < 0 ? SHARED_BUDGET : maxUploadBytes, leastBudget));
            this.kib = new Semaphore(budget);
            share = Math.max(budget / 2, leastShare);
            this.answers = new Semaphore(share);
        }
        // but a share of that compact answer alone (the least budget) has no room beside it: there an answer that fits
        // goes whole, as it did, rather than every answer compact
        this.roomLeftForACompactAnswer = share > leastShare ? leastShare : 0;
        if (answers == SHARED_ANSWERS) {
            SHARED_ROOM.accumulateAndGet(roomLeftForACompactAnswer, Math::max);
        }
    }

    /** The shared default's KiB not taken now (a test's look). */
    static int sharedKibLeft() {
        return SHARED.availablePermits();
    }

    private static int kib(long bytes) {
        return (int) Math.min(Integer.MAX_VALUE, bytes / 1024);
    }

    /**
     * Room for a body of {@code declared} bytes (-1: not said, chunked): what was taken, to give to
     * {@link #release}, or {@link #TOO_MANY} / {@link #TOO_MUCH}. A body declared over the limit is
     * drained, not kept: it takes a slot and no bytes.
     */
    int take(long declared) {
        if (!count.tryAcquire()) {
            return TOO_MANY;
        }
        long bytes = declared < 0 ? maxBodyBytes : declared > maxBodyBytes ? 0 : declared;
        int taken = (int) (bytes / 1024 + 1);
        if (!kib.tryAcquire(taken)) {
            count.release();
            return TOO_MUCH;
        }
        return taken;
    }

    /** A body that was not read to its end (refused, or its client gone): its slot and its bytes given back. */
    void release(int taken) {
        kib.release(taken);
        count.release();
    }

    /**
     * The body of {@code bodyBytes} is read: its slot is given back, and the bytes it took beyond its own
     * size (a chunked body took {@code maxBodyBytes}); what it still takes, to give to {@link #answered}.
     */
    Held read(int taken, int bodyBytes) {
        int kept = Math.min(taken, bodyBytes / 1024 + 1);
        // made first: should it throw (an OutOfMemoryError), the caller gives back all it took (release). Made after
        // the give-back, a slot and up to a body's bytes were given back twice: the bounds grown for good, each time
        var held = new Held(kept, false);
        kib.release(taken - kept);
        count.release();
        return held;
    }

    /**
     * A read body's bytes, given back once whoever holds them has let go: its request, once its answer is made (not
     * written: a slow reader of a big answer held its body for minutes, five of them most of the budget) or it is given
     * up on, and the events made of it, once all are settled — a response timeout answers while they wait in hand.
     * Or an answer's bytes ({@link #answering}), held by its request alone until written, in the budget and in the
     * answers' share of it.
     */
    final class Held {
        private final int kept;
        private final boolean answer;
        private final java.util.concurrent.atomic.AtomicInteger holders = new java.util.concurrent.atomic.AtomicInteger(1);

        private Held(int kept, boolean answer) {
            this.kept = kept;
            this.answer = answer;
        }

        /** One more holder (the request's events, until settled). */
        void retain() {
            holders.incrementAndGet();
        }

        /** A holder let go; the last one gives the bytes back. */
        void release() {
            if (holders.decrementAndGet() == 0) { // once: a second release finds -1, and the bounds stay as they were
                kib.release(kept);
                if (answer) {
                    answers.release(kept);
                }
            }
        }
    }

    /**
     * Room for a whole answer of {@code bytes} in the same budget as the bodies, held until it is written (given back
     * by its {@link Held#release}), or null when it does not fit: then a compact one is sent
     * ({@link #answeringCompact}). Held outside the budget, a batch's answer (a megabyte of ids, eight of reject
     * reasons) stayed in memory for as long as its client did not read it, and nothing bounded how many clients did
     * that.
     *
     * <p>And within the answers' share, half the budget (or the compact answer to the largest request, when that is
     * more). Each 64 KiB of an answer may take {@code readTimeout} to be read, so a slow but steady reader holds twice
     * its answer's length for minutes: a handful of them held the whole budget, and every upload was answered 503
     * while none was being read. Cutting such readers sooner is no mend: a cut answer to events that ran is sent
     * again by a client without a key, and they run twice.
     *
     * <p>A whole answer takes from the share only while the compact answer to the largest request still fits beside
     * it (but in a share of no more than that, at the least budget): whole answers filled the share, and a later
     * request's compact one was refused too: its client told only its counts, no results[], half the budget idle.
     */
    Held answering(int bytes) {
        return answering(bytes, answers == SHARED_ANSWERS ? SHARED_ROOM.get() : roomLeftForACompactAnswer);
    }

    /** Room for a compact answer of {@code bytes}, as {@link #answering}: the room whole answers leave it, too. */
    Held answeringCompact(int bytes) {
        return answering(bytes, 0);
    }

    /** Room for an answer of {@code bytes} that leaves {@code leftFree} KiB of the share free, or null. */
    private Held answering(int bytes, int leftFree) {
        var held = new Held(bytes / 1024 + 1, true); // made first: should it throw (an OutOfMemoryError), nothing was taken
        if (!answers.tryAcquire(held.kept)) {
            return null;
        }
        boolean taken = false;
        try {
            // the room left free looked at, not taken: taken a moment to check it was there, a compact answer asking
            // then found none, and its client was told only the counts
            taken = answers.availablePermits() >= leftFree && kib.tryAcquire(held.kept);
        } finally {
            if (!taken) { // no room left beside it, none in the budget, or a throw between the two: nothing held
                answers.release(held.kept);
            }
        }
        return taken ? held : null;
    }

    /** Bodies being read now. */
    int reading() {
        return maxUploads - count.availablePermits();
    }

    int maxUploads() {
        return maxUploads;
    }
}
