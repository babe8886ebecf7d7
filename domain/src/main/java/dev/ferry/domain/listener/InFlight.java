package dev.ferry.domain.listener;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One delivery between its receipt and its settlement. Touched by one runner at a time (its group
 * is serial); the lease keeper reads the volatile fields.
 */
final class InFlight {

    /**
     * A ledger claim this delivery holds: extended with its lease, completed or released at the end.
     * {@code untilNanos}: the end it was taken to at the least (nanoTime: when it was asked, plus the lease asked for),
     * or {@link #NO_NANOS}; what its extensions may take to answer is bounded by it ({@link ClaimLeases}). Not part of
     * what the claim is: one key and token are one claim, however it was taken.
     */
    record HeldClaim(String key, long token, long untilNanos) {

        HeldClaim(String key, long token) {
            this(key, token, NO_NANOS);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof HeldClaim c && c.token == token && java.util.Objects.equals(c.key, key);
        }

        @Override
        public int hashCode() {
            return 31 * java.util.Objects.hashCode(key) + Long.hashCode(token);
        }
    }

    final Delivery delivery;
    /** Null when decoding threw: {@link #decodeProblem} says what. */
    List<Event> events;
    String decodeProblem;
    final String orderingKey;
    final AtomicBoolean settled = new AtomicBoolean();
    /** Taken by whoever records a deferred completion (the completer, or a shutdown giving it back). */
    final AtomicBoolean completing = new AtomicBoolean();
    /** When its lease runs out as counted from the transport's answer: past it, a copy may be out. */
    volatile Instant leaseUntil;
    /**
     * The earliest its lease may run out (counted from the poll): an ack made before it is excused
     * should the transport refuse it. Never after {@link #leaseUntil}.
     */
    volatile Instant excuseUntil;
    /**
     * {@link #excuseUntil} on {@link System#nanoTime()}, or {@link #NO_NANOS}: the lease keeper extends by
     * whichever comes first, so a wall clock stepped back (NTP) does not hold extensions back while the
     * transport's lease, which runs in real time, ends.
     */
    volatile long excuseNanos = NO_NANOS;
    static final long NO_NANOS = Long.MIN_VALUE;
    /** After the transport refused to extend its lease: not asked again before this ({@link System#nanoTime()}), or {@link #NO_NANOS}. */
    volatile long askAgainNanos = NO_NANOS;
    /** Kept by its handler (skip-delete) past a lease the transport would not extend: since when (nanoTime). */
    volatile long keptPastLeaseNanos = NO_NANOS;
    /**
     * skip-delete: put back (or dead-lettered, or dropped stale) by the listener with events its handler kept: their
     * claims stay with the handler, whose settle completes or releases them and is not sent to the transport.
     */
    volatile boolean partlyKept;
    volatile boolean started;
    /** Waiting in hand to be tried again (throttled, retrying, ledger down); its group waits too. */
    volatile boolean held;
    /** The next event to handle: events before it are done (or were duplicates). */
    int nextEvent;
    /** The ledger claim held right now, extended with the lease; null when none. */
    volatile HeldClaim claim;
    /**
     * The lease keeper has read its claims and asks the transport for a longer lease: a claim taken meanwhile is not
     * among those it extended, and its taker extends it (set before the keeper reads {@link #claim}, which its taker sets
     * before reading this; cleared once the lease moved).
     */
    volatile boolean extending;
    /**
     * The claim of an event that answered Throttled or Retry with a wait well within what is left of the claim's lease,
     * kept (not extended) while the delivery waits in hand, taken up by the next try; released when the delivery leaves
     * the listener's hands. Taken by whoever takes it first ({@code getAndSet(null)}): released once, or taken up once.
     */
    final java.util.concurrent.atomic.AtomicReference<HeldClaim> pausedClaim = new java.util.concurrent.atomic.AtomicReference<>();
    /** A Done event whose ledger completion failed: complete it before going on (its claim is still extended). */
    volatile HeldClaim toComplete;
    /** When it began waiting for its group's earlier completion to be recorded (nanoTime, never 0), or 0. */
    long waitingForEarlierSince;
    /** Ledger calls that failed in a row for this delivery. */
    int storeFailures;
    /**
     * Its handler's own ledger calls that failed in a row (a fan-out's marks): not reset by the delivery's own calls that
     * worked meanwhile (its claim taken up again each try), which held the backoff at its first step for ever.
     */
    int handlerStoreFailures;
    /** skip-delete: claims of events handed to the handler, completed when it settles the delivery. */
    final List<HeldClaim> asyncClaims = new CopyOnWriteArrayList<>();
    /**
     * skip-delete: how the handler settled the delivery while its {@code handle()} was still running, else null;
     * its claims are completed (or released) when the delivery would have been handed over.
     */
    final AtomicReference<Disposition> settledEarly = new AtomicReference<>();
    /** The listener's own settlement, set as it is marked settled (from then until its slot is freed it is being queued). */
    volatile Disposition ours;
    /** skip-delete: events the handler kept (duplicates and event-less deliveries never reach it). */
    volatile int handedToHandler;
    /** A handler's ack taken while the worker was among its events, and its state ({@link EarlyAcks}; the item's lock). */
    boolean ackedEarly;
    boolean ackSinceCall;
    boolean keptAfterAck;
    boolean eventsOver;
    Thread caller;
    java.util.Set<HeldClaim> ackedClaims;
    /** It could not be decoded, and never will (why): dead-lettered in its group's turn (on-poison park). */
    String malformed;
    /** This delivery's receive-limit decoding mark while it is held ({@link ReceiveLimit}), else null. */
    volatile HeldClaim decodingMark;

    /** The decoding mark held, taken off this item (null when none): to let go of. */
    HeldClaim takeDecodingMark() {
        var mark = decodingMark;
        decodingMark = null;
        return mark;
    }
    /** on-poison park: whether its group was asked about; the token of the release it belongs to, if any. */
    boolean parkChecked;
    /** on-poison park: dead-lettered for waiting behind its group's head (not for a failure of its own). */
    boolean parkedBehind;
    String releaseToken;
    long releaseNumber;
    boolean passRecorded;
    /** The poll it came in and its slot there, as {@link Hands} keeps it; set before anyone else sees the item. */
    Hands.Batch batch;
    int slot;

    InFlight(Delivery delivery, List<Event> events, String decodeProblem, String orderingKey, Instant leaseUntil,
             Instant excuseUntil) {
        this.delivery = delivery;
        this.events = events;
        this.decodeProblem = decodeProblem;
        this.orderingKey = orderingKey;
        this.leaseUntil = leaseUntil;
        this.excuseUntil = excuseUntil;
    }

    /** Every event's effect happened; only the last one's ledger completion is missing. */
    boolean effectDone() {
        return toComplete != null && events != null && nextEvent >= events.size() - 1;
    }

    /**
     * Of the handed-over items: whether its handler keeps it now — handed over whole, or let go of by the listener with
     * the claims of events its handler kept. One a stop let go of among its events ({@code Hands.settlingOurs}) is put
     * there whatever its handler kept, only so that a settle from the call still under way finds it: with nothing kept,
     * it is its handler's no more than a released one is.
     */
    boolean keptByItsHandler() {
        return !partlyKept || !asyncClaims.isEmpty();
    }

    /**
     * How many of {@code handedOver} their handlers keep ({@link #keptByItsHandler}): the stats' {@code
     * keptByHandler}, which a stop's report reads as its {@code keptPastDeadline}. One rule for both: counted by two, a
     * stop that let go of a delivery whose handler had kept nothing said "0 kept by their handler" beside its own
     * keptByHandler=1.
     */
    static long keptOf(java.util.Collection<InFlight> handedOver) {
        return handedOver.isEmpty() ? 0 : handedOver.stream().filter(InFlight::keptByItsHandler).count(); // per poll
    }

    /** After its handler's own settlement: the group's next waits for one its handler put back, goes on after the others. */
    static dev.ferry.domain.ordering.OrderingGroups.Step stepAfterHandlersOwn(InFlight item) {
        var early = item.settledEarly.get();
        return early instanceof Disposition.Ack || early instanceof Disposition.DeadLetter
                ? dev.ferry.domain.ordering.OrderingGroups.Step.DONE : dev.ferry.domain.ordering.OrderingGroups.Step.FAILED;
    }
}
