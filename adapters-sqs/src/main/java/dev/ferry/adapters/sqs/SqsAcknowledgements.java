package dev.ferry.adapters.sqs;

import dev.ferry.adapters.sqs.SqsErrors.EntryError;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.model.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * What an {@link SqsSource} does with the messages it handed out: deletes them (after copying dead
 * letters to the dead-letter queue), changes their visibility (release, redeliver later, extend a
 * lease), in batches of ten sent at once, and reports per message what SQS refused.
 */
final class SqsAcknowledgements {

    private static final Logger LOG = LoggerFactory.getLogger(SqsSource.class);

    private final SqsClient client;
    private final String queueUrl;
    private final String name;
    private final int settleRetries;
    private final ExecutorService calls;
    private final DeadLetterCopies deadLetterCopies;
    private final LongAdder invalidReceipts = new LongAdder();
    private final LongAdder settleFailures = new LongAdder();
    private final LongAdder refusedUnsettled = new LongAdder(); // screening's own settlements that failed
    /**
     * The per-message lines of settlements refused (a stale receipt, a refused message that could not be dead-lettered):
     * 20 in 10 s, then counted. Unbounded, a lasting fault (lease extensions failing on a FIFO queue, a DLQ refusing) wrote
     * a line per message per settle — a million an hour — beside the listener's own, which are bounded so.
     */
    private final LineBudget staleLines;
    private final LineBudget refusedLines; // apart: a new fault's first lines are not hidden behind routine stale receipts

    SqsAcknowledgements(SqsClient client, String queueUrl, String name, int settleRetries, ExecutorService calls,
                        DeadLetterCopies deadLetterCopies) {
        this.client = client;
        this.queueUrl = queueUrl;
        this.name = name;
        this.settleRetries = settleRetries;
        this.calls = calls;
        this.deadLetterCopies = deadLetterCopies;
        this.staleLines = new LineBudget(20, java.time.Duration.ofSeconds(10), skipped -> LOG.warn("SQS '{}': {} more "
                + "stale receipt handles not logged one by one (a listener's count in ferry_settle_failures_total)", name, skipped));
        this.refusedLines = new LineBudget(20, java.time.Duration.ofSeconds(10), skipped -> LOG.warn("SQS '{}': {} more "
                + "refused messages not dead-lettered or released not logged one by one (counted in "
                + "ferry_sqs_unsettled_total)", name, skipped));
    }

    long deadLettersCopied() {
        return deadLetterCopies.copied();
    }

    /** The dead-letter queue's largest message, as it says ({@code 0}: it does not): copies are cut to fit it. */
    void deadLetterLargest(int bytes) {
        deadLetterCopies.largest(bytes);
    }

    long invalidReceipts() {
        return invalidReceipts.sum();
    }

    long settleFailures() {
        return settleFailures.sum();
    }

    long refusedUnsettled() {
        return refusedUnsettled.sum();
    }

    List<Settlement.Failure> settle(List<Settlement> settlements) {
        var failures = new ArrayList<Settlement.Failure>();
        var deletes = new ArrayList<Settlement>();
        var visibility = new ArrayList<Settlement>();
        var deadLetters = new ArrayList<Settlement>();
        for (var s : settlements) {
            if (!(s.delivery().receipt() instanceof SqsReceipt)) {
                failures.add(new Settlement.Failure(s, "not received from SQS source '" + name + "'", false));
                continue;
            }
            switch (s.disposition()) {
                case Disposition.Ack ack -> deletes.add(s);
                case Disposition.Release release -> visibility.add(s);
                case Disposition.Redeliver redeliver -> visibility.add(s);
                case Disposition.DeadLetter deadLetter -> deadLetters.add(s);
            }
        }
        if (!deadLetters.isEmpty()) {
            deletes.addAll(deadLetterCopies.send(deadLetters, failures));
        }
        if (!deletes.isEmpty()) {
            var errors = Batches.delete(client, queueUrl, deletes, s -> receipt(s.delivery()).handle(), settleRetries, calls);
            report("DeleteMessageBatch", errors, failures);
            deadLetterCopies.acknowledged(deletes, errors);
        }
        if (!visibility.isEmpty()) {
            var errors = Batches.changeVisibility(client, queueUrl, visibility, s -> receipt(s.delivery()).handle(),
                    s -> s.disposition() instanceof Disposition.Redeliver r
                            ? Math.min(ceilSeconds(r.delay()), remainingSeconds(receipt(s.delivery())))
                            : 0,
                    settleRetries, calls);
            report("ChangeMessageVisibilityBatch", errors, failures);
        }
        settleFailures.add(failures.size());
        return failures;
    }

    /**
     * Dead-letters what screening refused at receive (damaged, a foreign sender), and releases what it held back
     * behind a released head of its group; what fails comes back later.
     */
    void settleRefused(List<Settlement> refused) {
        try {
            var failures = settle(refused);
            refusedUnsettled.add(failures.size());
            for (var failure : failures) {
                if (!refusedLines.take()) {
                    continue;
                }
                LOG.warn("SQS '{}': message {} could not be {} ({}); it comes back when its visibility runs out", name,
                        failure.settlement().delivery().id(), refusedAction(failure.settlement()), failure.reason());
            }
        } catch (RuntimeException e) {
            refusedUnsettled.add(refused.size());
            LOG.warn("SQS '{}': settling {} refused or held-back message(s) failed ({}); they come back when their "
                    + "visibility runs out", name, refused.size(), dev.ferry.domain.model.Thrown.describe(e));
        }
    }

    /** What was asked for a message screening refused or held back, as the log says it. */
    static String refusedAction(Settlement s) {
        return s.disposition() instanceof Disposition.DeadLetter ? "dead-lettered" : "released";
    }

    /**
     * {@code accepted} with their leases made whole (after slow work inside the poll); those SQS would not extend (their
     * visibility lapsed: another receiver may have them) are not handed out, nor are their groups' later ones, which are
     * released so that the group's head comes back first. One extended as far as SQS's 12 hours allow, short of the
     * lease, is handed out: the listener's lease keeper meets that cap as it would have later. {@code answeredNanos}: when
     * their receive answered.
     */
    List<Delivery> renewed(List<Delivery> accepted, Duration lease, long answeredNanos) {
        var notExtended = notExtended(accepted, lease);
        if (notExtended.isEmpty()) {
            return accepted;
        }
        var lapsed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<Delivery, Boolean>());
        var shortened = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<Delivery, Boolean>());
        for (var e : notExtended.entrySet()) {
            // a refusal of SQS's own (throttled, failing) leaves the visibility the receive gave: not lapsed — taken for
            // lapsed, a throttling storm left good messages of other groups invisible a lease, unseen. Handed out while
            // three quarters of the lease are left (the listener extends it first half a lease in), else sent back, as
            // the later ones of its group. Counted from when SQS leased it: counted from the ask, a quiet queue's long
            // poll (8 s) took a lease of 30 s for a third spent, and good messages were sent back, a receive spent each
            if (lapsed(e.getKey(), e.getValue())) {
                lapsed.add(e.getKey());
            } else if ((System.nanoTime() - leaseStart(receipt(e.getKey()), answeredNanos)) * 4 > lease.toNanos()) {
                shortened.add(e.getKey());
            }
        }
        var behind = new java.util.HashSet<String>();
        var kept = new ArrayList<Delivery>();
        var release = new ArrayList<Settlement>();
        for (var d : accepted) { // in receive order: a group's head before its later ones
            boolean held = lapsed.contains(d) || shortened.contains(d) || d.groupKey() != null && behind.contains(d.groupKey());
            if (held && d.groupKey() != null) {
                behind.add(d.groupKey());
            }
            if (!held) {
                kept.add(d);
            } else if (!lapsed.contains(d)) {
                release.add(new Settlement(d, Disposition.RELEASE));
            }
        }
        if (!release.isEmpty()) {
            settle(release);
        }
        return kept;
    }

    /**
     * Whether a message {@link #notExtended} lapsed: SQS said its receipt is stale, or SQS's 12 hours had no time left
     * to give it. Granted what is left of them, short of a whole lease, it has not: taken for lapsed, a FIFO listener
     * leasing 12 h lost every good message of a receive after a slow dead-letter copy — neither handed out nor released,
     * invisible 12 hours, their groups blocked behind them.
     */
    private static boolean lapsed(Delivery d, EntryError refusal) {
        return refusal == null ? remainingSeconds(receipt(d)) == 0 : refusal.invalidReceipt();
    }

    /**
     * Releases what a receive brought after its poll was given up (interrupted); how many went back.
     * Runs on the interrupted poller: the flag is cleared for the call (the SDK aborts a call on an
     * interrupted thread, leaving the messages invisible), then set again.
     */
    int releaseOrphans(List<Delivery> orphans) {
        var release = orphans.stream().map(d -> new Settlement(d, Disposition.RELEASE)).toList();
        boolean interrupted = Thread.interrupted();
        List<Settlement.Failure> failures;
        try {
            failures = settle(release);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        LOG.debug("SQS '{}': {} message(s) received after the poll was interrupted, released", name, release.size());
        return release.size() - failures.size();
    }

    private void report(String operation, Map<Settlement, EntryError> errors, List<Settlement.Failure> failures) {
        for (var e : errors.entrySet()) {
            var error = e.getValue();
            if (error.invalidReceipt()) {
                invalidReceipts.increment();
            }
            if (error.invalidReceipt() && staleLines.take()) {
                LOG.warn("SQS '{}': {} of message {} used a stale receipt handle ({}); the message "
                        + "was received again since and its newer receipt settles it", name, operation,
                        e.getKey().delivery().id(), error);
            }
            // a stale receipt is for good: the message was received again, and its newer receipt settles it — except a
            // dead letter's, whose copy is in the DLQ already (only those are deleted): said to pass, so the listener owes
            // it and the newer copy goes there without running (handled, it would run beside its own dead letter)
            boolean copied = e.getKey().disposition() instanceof Disposition.DeadLetter;
            failures.add(new Settlement.Failure(e.getKey(), operation + ": " + error,
                    error.invalidReceipt() ? copied : error.retryable()));
        }
    }

    List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        return new ArrayList<>(notExtended(deliveries, lease).keySet());
    }

    /**
     * Of {@code deliveries}, those not extended for a whole lease, each with SQS's refusal (null: SQS's 12 hours from the
     * receive left less than the lease, or nothing, to give it).
     */
    private Map<Delivery, EntryError> notExtended(List<Delivery> deliveries, Duration lease) {
        var notExtended = new java.util.IdentityHashMap<Delivery, EntryError>();
        var extend = new ArrayList<Delivery>(deliveries.size());
        for (var d : deliveries) {
            if (d.receipt() instanceof SqsReceipt r && remainingSeconds(r) > 0) {
                extend.add(d);
            } else {
                notExtended.put(d, null);
            }
        }
        int seconds = SqsSource.visibilitySeconds(lease);
        var granted = new java.util.IdentityHashMap<Delivery, Integer>(extend.size());
        for (var d : extend) {
            granted.put(d, Math.min(seconds, remainingSeconds(receipt(d)))); // read once: the call and the answer agree
        }
        var errors = Batches.extendVisibility(client, queueUrl, extend, d -> receipt(d).handle(), granted::get,
                settleRetries, calls, lease);
        notExtended.putAll(errors);
        for (var d : extend) {
            if (granted.get(d) < seconds && !errors.containsKey(d)) {
                // near SQS's 12 hours from the receive: kept invisible as long as SQS allows, but not for a whole lease —
                // said so, or the listener would count on a lease the message no longer has
                notExtended.put(d, null);
            }
        }
        return notExtended;
    }

    /** The longest a receive's answer is taken to travel after SQS leased what it carries (as the listener's). */
    private static final long ANSWER_TRAVEL_NANOS = 1_000_000_000L;

    /**
     * When SQS began a receive's lease, at the earliest: not before the receive was asked for, nor more than
     * {@link #ANSWER_TRAVEL_NANOS} before it answered. SQS leases what it hands out at the end of a long poll's wait,
     * which is no part of the lease (the listener's Poller.leaseStart does the same). Only to judge what of a lease is
     * spent: SQS's 12 hours and a dead-letter copy's blocker count from the ask ({@code receivedAtNanos}), the safe
     * side there.
     */
    private static long leaseStart(SqsReceipt r, long answeredNanos) {
        return r.receivedAtNanos() + Math.max(0, answeredNanos - ANSWER_TRAVEL_NANOS - r.receivedAtNanos());
    }

    private static SqsReceipt receipt(Delivery d) {
        return (SqsReceipt) d.receipt();
    }

    /** Seconds of visibility SQS still allows for this receive (12 h from it), less a second of margin. */
    private static int remainingSeconds(SqsReceipt r) {
        long elapsed = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - r.receivedAtNanos());
        return (int) Math.max(0, SqsSource.MAX_VISIBILITY_SECONDS - elapsed - 1);
    }

    private static int ceilSeconds(Duration d) {
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, Durations.ceilSeconds(d)));
    }
}
