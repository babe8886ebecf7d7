package dev.ferry.domain.parking;

import dev.ferry.domain.model.FerryException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Optional;

/**
 * One run of {@link GroupParker#release}: begins the release (or takes up the one under way), then
 * moves the group's parked messages back and records each move, until a pass finds them all back or
 * the patience runs out. The head is dropped only if it is still the one asked for.
 *
 * <p>All back, it watches them pass for up to its patience ({@link #watch}): a message the producer sent that reached
 * the listener among them is parked behind them, and the group then stays parked past the last of them — the release
 * had answered "released, it flows again", and nothing moved that message for good. Seen, it is moved too, in a round
 * of its own.
 *
 * <p>The head it drops ({@code --skip-head}) is logged as it goes, and a release interrupted after that (a copy
 * failed again, the group parked behind it) says so in what it throws: it said only "parked again behind B3 … release
 * it again", the endpoint's audit line (written for a release that ends) never was, and the same command again was
 * refused (the head no longer the one named) — the head gone, and nothing anywhere said it had been thrown away.
 */
final class GroupRelease {

    /** GroupParker's: where the last copy's pass warns too ({@link ParkedAmongCopies}). */
    private static final System.Logger LOG = System.getLogger(GroupParker.class.getName());

    /** Tries of the write that records a move (about 6 s in all, from 100 ms doubling). */
    private static final int MOVED_TRIES = 7;
    /**
     * Rounds a release moves what was parked among its copies in, after its first. A producer that keeps sending may
     * park one among each round's copies (one where a batch of copies ends, one behind the last); past these the
     * release answers "not yet" and the next takes up the rest.
     */
    static final int MAX_ROUNDS = 5;
    /**
     * Patiences since the release began past which no round begins. A round ends as its copies pass or one parks among
     * them, but may wait its patience out twice (a dead letter that never arrives, copies that never pass): begun
     * within four, the last ends within six — three minutes at 30 s, within what a client waits for the answer (the
     * CLI through a running Ferry, five minutes).
     */
    private static final int ROUNDS_BEGIN_WITHIN_PATIENCES = 4;
    /** How often a watch reads the group's state. */
    private static final long WATCH_EVERY_MILLIS = 200;

    private final GroupParker parker;
    private final String source;
    private final String group;

    GroupRelease(GroupParker parker, String source, String group) {
        this.parker = parker;
        this.source = source;
        this.group = group;
    }

    /** Copies this run sent back so far, counted as each move records them: what an interrupted release says it did. */
    private long sentBack;
    /** The head this run dropped ({@code skipHead}) once it did, as the group held it; null till then. */
    private String droppedHead;

    GroupParker.Released run(boolean skipHead, String expectedHead, GroupParker.Mover mover, Duration patience,
                             boolean giveUpMissing) throws InterruptedException {
        try {
            return moveAndWatch(skipHead, expectedHead, mover, patience, giveUpMissing);
        } catch (FerryException e) {
            if (droppedHead == null || e.getClass() != FerryException.class && !(e instanceof GroupParker.ReleaseInterrupted)) {
                throw e; // nothing thrown away yet: what it says is the whole of it (or a type of a mover's, kept as is)
            }
            // parked again once the head was deleted (in the watch, at a finish, mid-move), or a move's problem after it
            // (a send failing, the group parked again seen by the mover): said without it, the answer named only the
            // new head, and the operator never learnt the one they named was gone
            String said = e.getMessage() + "; " + sentBack + " sent back, head " + droppedHead + " dropped (skip-head)";
            if (e instanceof GroupParker.ReleaseInterrupted) {
                var told = new GroupParker.ReleaseInterrupted(said);
                told.initCause(e);
                throw told;
            }
            throw new FerryException(said, e, e.retryable());
        }
    }

    /** The release's rounds, each a move and, once all are back, a watch; {@link #run} adds what was dropped. */
    private GroupParker.Released moveAndWatch(boolean skipHead, String expectedHead, GroupParker.Mover mover,
                                              Duration patience, boolean giveUpMissing) throws InterruptedException {
        if (skipHead && expectedHead != null) {
            headIs(parker.parked(source, group).orElse(null), source, group, expectedHead);
        }
        String token = parker.beginRelease(source, group);
        long began = System.nanoTime();
        long deadline = began + patience.toNanos();
        long redriven = 0;
        long skipped = 0;
        boolean headSkipped = false;
        int rounds = 0;
        while (true) {
            var state = parker.parked(source, group).orElse(null);
            ensureReleasing(state, source, group, token);
            if (skipHead && !headSkipped && expectedHead != null) {
                headIs(state, source, group, expectedHead);
            }
            var recorded = new long[2]; // what this move's progress recorded so far: counted, redriven
            GroupParker.Moved moved = null;
            try {
                moved = mover.move(state, token, skipHead && !headSkipped, new GroupParker.Progress() {
                    @Override
                    public void movedSoFar(long counted, long sent) {
                        record(state, token, recorded, counted, sent);
                    }

                    @Override
                    public boolean stillReleasing() {
                        var now = parkedPatiently();
                        return now != null && now.passes(token);
                    }
                });
                record(state, token, recorded, moved.counted(), moved.redriven());
            } finally {
                if (interrupted) { // set only now: set inside the move, the mover's last calls (visibility) were cut short
                    Thread.currentThread().interrupt();
                }
                // as recorded, though the move threw (parked again mid-move, the head deleted already, it went unsaid);
                // and as the mover says when it returned: counted less redriven also lacks the copies sent back whose
                // delete failed, so a head deleted beside one (2 counted, 2 sent) went unsaid — no warning, the problem
                // thrown without it, and no audit line (the next release skipped none)
                sentBack = redriven + recorded[1];
                if (skipHead && droppedHead == null && (recorded[0] > recorded[1] || moved != null && moved.dropped() > 0)) {
                    headDropped(state.head()); // once: later rounds keep theirs
                }
            }
            redriven += moved.redriven();
            skipped += moved.dropped();
            headSkipped |= moved.dropped() > 0;
            if (moved.problem() != null) { // the group stays parked; what went back passes, the next release takes up the rest
                throw new FerryException("releasing group " + group + " of '" + source + "' stopped after " + redriven
                        + " message(s): " + moved.problem(), true);
            }
            var finish = parker.finish(source, group, token, state.parked(), patience, giveUpMissing);
            if (finish != GroupParker.Finish.NOT_YET || System.nanoTime() - deadline > 0) {
                // a shortfall forgiven once the last park settled: counted twice, or no longer there to be moved
                // (less those that passed under this release beyond its count: sent back, their count lost — a kill between,
                // the store down — they were said to be missing, the head perhaps lost, and the event sent again)
                long notFound = finish == GroupParker.Finish.NOT_YET ? 0 : Math.max(0, state.parked() - state.moved()
                        - moved.counted() - Math.max(0, state.passed() - state.redriven()));
                if (finish == GroupParker.Finish.CLOSING) {
                    var watched = watch(token, mover, patience);
                    if (watched == Watched.PARKED_AMONG && anotherRound(++rounds, began, patience, mover)) {
                        deadline = System.nanoTime() + patience.toNanos(); // its dead letter may be on its way still
                        continue;
                    }
                    finish = watched.finish;
                }
                return new GroupParker.Released(finish, redriven, skipped, notFound);
            }
            Thread.sleep(200);
        }
    }

    /**
     * Says that {@code head} was deleted, not sent back — at once, as the one thing a release throws away: logged only
     * by the endpoint once the release ended, one that threw (parked again) left no line, nor one the CLI ran itself.
     */
    private void headDropped(String head) {
        droppedHead = head;
        // no apostrophes: MessageFormat reads them as quotes
        LOG.log(Level.WARNING, "group {0} of source {1}: its head {2} given up (skip-head): deleted from the dead-letter "
                + "destination, not sent back", TransportText.safe(GroupParker.headOf(group)), TransportText.safe(source),
                TransportText.safe(head));
    }

    /**
     * Whether round {@code round} begins, to move what was parked among the copies: within the bounds, and not once
     * whoever runs the release goes away — those under way end after their batch.
     */
    private static boolean anotherRound(int round, long began, Duration patience, GroupParker.Mover mover) {
        return round <= MAX_ROUNDS && !mover.stopping()
                && System.nanoTime() - began < patience.multipliedBy(ROUNDS_BEGIN_WITHIN_PATIENCES).toNanos();
    }

    /** How a {@link #watch} ended, and what the release answers then. */
    private enum Watched {
        /** The last copy passed: the group flows. */
        FLOWS(GroupParker.Finish.UNPARKED),
        /** Closing still, at the watch's end or its runner's: the last copy to pass unparks the group. */
        CLOSING(GroupParker.Finish.CLOSING),
        /** A message was parked among the copies: it is to be moved too (answered "not yet" past the last round). */
        PARKED_AMONG(GroupParker.Finish.NOT_YET);

        final GroupParker.Finish finish;

        Watched(GroupParker.Finish finish) {
            this.finish = finish;
        }
    }

    /**
     * Once {@link GroupParker#finish} said CLOSING: reads the group's state every {@value #WATCH_EVERY_MILLIS} ms for up
     * to {@code patience}, until the last copy has passed (the group gone), or a message parked behind the copies —
     * no longer closing, more parked than moved — is to be moved too. Whoever runs the release going away ends the
     * watch at once: a close waits for releases only seconds. A read that fails is made again at the next tick.
     *
     * @throws GroupParker.ReleaseInterrupted when a copy failed again: the group parked behind it, a new head
     */
    private Watched watch(String token, GroupParker.Mover mover, Duration patience) throws InterruptedException {
        long end = System.nanoTime() + patience.toNanos();
        while (true) {
            Optional<ParkedGroup> now;
            try {
                now = parker.parked(source, group);
            } catch (RuntimeException storeFailing) {
                now = null; // read again next time: the release's work is done, a failed read does not undo it
            }
            if (now != null) {
                if (now.isEmpty()) {
                    return Watched.FLOWS;
                }
                var state = now.get();
                ensureReleasing(state, source, group, token);
                if (!state.closing() && state.moved() < state.parked()) {
                    return Watched.PARKED_AMONG;
                }
            }
            if (mover.stopping() || System.nanoTime() - end > 0) {
                return Watched.CLOSING;
            }
            Thread.sleep(WATCH_EVERY_MILLIS);
        }
    }

    /**
     * The group's state, asked again while the store fails, as a move's count is: a read failing for a moment in the
     * middle of a move stopped it there, the batch it had read invisible for two minutes and taken for another reader's.
     */
    private ParkedGroup parkedPatiently() {
        long pauseMillis = 100;
        for (int attempt = 1; ; attempt++) {
            try {
                return parker.parked(source, group).orElse(null);
            } catch (RuntimeException e) {
                if (attempt >= MOVED_TRIES) {
                    throw e;
                }
            }
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                interrupted = true;
                throw new FerryException("interrupted while reading group " + group + " of '" + source + "'", e, true);
            }
            pauseMillis *= 2;
        }
    }

    /** Interrupted while a move's progress was recorded: the interrupt is set again once the move has returned. */
    private boolean interrupted;

    /**
     * Records what a move took out so far ({@code counted} and {@code redriven}, running totals) beyond what
     * {@code recorded} says was recorded already, and keeps that up to date.
     */
    private void record(ParkedGroup before, String token, long[] recorded, long counted, long redriven) {
        long more = counted - recorded[0];
        long sentMore = redriven - recorded[1];
        if (more <= 0 && sentMore <= 0) {
            return;
        }
        try {
            recordMoved(before, before.moved() + recorded[0], before.redriven() + recorded[1], token, Math.max(0, more),
                    Math.max(0, sentMore));
        } catch (GroupParker.ReleaseInterrupted e) {
            // parked again, or let go: what was moved is counted all the same (GroupParker.moved), so it is recorded —
            // told again, the mover's next running total counted it a second time
            recorded[0] = Math.max(recorded[0], counted);
            recorded[1] = Math.max(recorded[1], redriven);
            throw e;
        } catch (InterruptedException e) {
            interrupted = true;
            throw new FerryException("interrupted while recording what a release of group " + group + " of '" + source
                    + "' moved", e, true);
        } catch (RuntimeException e) {
            // the store failed, the write's fate unknown: taken as recorded, so a mover that goes on (the group parked
            // again) never tells it again — counted twice, more moved than parked, the group drained with messages parked
            recorded[0] = Math.max(recorded[0], counted);
            recorded[1] = Math.max(recorded[1], redriven);
            throw e;
        }
        recorded[0] = Math.max(recorded[0], counted);
        recorded[1] = Math.max(recorded[1], redriven);
    }

    /**
     * Records what a move took out of the dead-letter destination. The move cannot be undone, and its
     * count lost would keep the group parked (and number what the next release sends back from where
     * this one began), so a store that fails is asked again for a few seconds. Before each retry, the
     * state is read: a write that landed though its answer was lost is not counted twice (moves are
     * counted only by the release of {@code token}, one at a time).
     */
    private void recordMoved(ParkedGroup before, long movedBefore, long redrivenBefore, String token, long counted,
                             long redriven)
            throws InterruptedException {
        long pauseMillis = 100;
        int attempt = 1;
        while (true) {
            RuntimeException failed;
            try {
                parker.moved(before.source(), before.group(), token, counted, redriven);
                return;
            } catch (GroupParker.ReleaseInterrupted e) {
                throw e;
            } catch (RuntimeException e) {
                failed = e;
            }
            // did it land? Asked until the store answers: written again blind, a write that landed would count twice
            while (true) {
                if (attempt++ >= MOVED_TRIES) {
                    throw failed;
                }
                Thread.sleep(pauseMillis);
                pauseMillis *= 2;
                ParkedGroup now;
                try {
                    now = parker.parked(before.source(), before.group()).orElse(null);
                } catch (RuntimeException stillFailing) {
                    continue;
                }
                // by what was moved, or when nothing more was (a last batch whose deletes failed), by what went back
                if (now != null && (counted > 0 ? now.moved() >= movedBefore + counted
                        : now.passes(token) && now.redriven() >= redrivenBefore + redriven)) {
                    ensureReleasing(now, before.source(), before.group(), token);
                    return; // the failed write had landed
                }
                break; // it had not: written again
            }
        }
    }

    /** {@code text} with its JSON escapes ({@code \\uXXXX}, {@code \\\\}, {@code \\"}) read; as it is when it has none. */
    static String unescaped(String text) {
        if (text.indexOf('\\') < 0) {
            return text;
        }
        var sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length() && text.charAt(i + 1) == 'u' && hex(text, i + 2)) {
                sb.append((char) Integer.parseInt(text, i + 2, i + 6, 16));
                i += 5;
            } else if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == '\\' || text.charAt(i + 1) == '"')) {
                sb.append(text.charAt(++i));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean hex(String text, int from) {
        if (from + 4 > text.length()) {
            return false;
        }
        for (int i = from; i < from + 4; i++) {
            if (Character.digit(text.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /** The group is still under this release: else it was released by someone else, or parked again. */
    static void ensureReleasing(ParkedGroup current, String source, String group, String token) {
        if (current == null) {
            throw new GroupParker.ReleaseInterrupted("group " + group + " of '" + source + "' was released by someone else meanwhile");
        }
        if (!current.passes(token)) {
            throw new GroupParker.ReleaseInterrupted("group " + group + " of '" + source + "' was parked again behind " + current.head()
                    + " (" + current.reason() + ") meanwhile; what was moved is counted: release it again");
        }
    }

    private static void headIs(ParkedGroup current, String source, String group, String expectedHead) {
        // the head as listed, or the whole event key it was kept for (a long key is kept as its start and a hash), or as
        // a listing writes it in JSON: a key holding half a surrogate pair no URL or command line carries as it is (the
        // console's encoder threw on it, the CLI's sent '?'), so a group parked on such a head could never drop it
        if (current != null && !current.head().equals(expectedHead) && !current.head().equals(GroupParker.headOf(expectedHead))
                && !current.head().equals(unescaped(expectedHead))) {
            throw new GroupParker.ReleaseInterrupted("the head of group " + group + " of '" + source + "' is " + current.head()
                    + " now, not " + expectedHead + " (parked again since it was looked at): look at it before dropping it");
        }
    }
}
