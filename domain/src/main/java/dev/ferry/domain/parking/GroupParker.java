package dev.ferry.domain.parking;

import dev.ferry.domain.model.FerryException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * What parking a group means, on a {@link GroupParking} store shared by every instance.
 *
 * <p>A listener with {@link OnPoison#PARK} asks {@link #parked} before it handles a message of an
 * ordered group; a message of a parked group goes to the dead-letter destination with the reason
 * {@link #behind}, and every dead letter of the group is counted by {@link #park} (the first one
 * parks it: the group's head, dead-lettered with {@link #at}). Nothing of a parked group is handled
 * — except the messages of a release under way, which carry its token and their number in the
 * release in the {@link #RELEASE_ATTRIBUTE} attribute ({@link #releaseValue}).
 *
 * <p>A release ({@link #release}, the CLI's {@code ferry groups release}) sends the group's parked
 * messages back to the source in order, numbered, and reports what it moved ({@link #moved}); it
 * ends ({@link #finish}) once a pass over the dead-letter destination found the group's parked
 * messages all moved, with none parked meanwhile. The group flows again when the last of them
 * has been handled ({@link #passed}; they pass in order, so the highest number handled says it) —
 * unparked by the listener that handles it, or by the release when that happened first. A message
 * the producer sends meanwhile is parked behind them while any of them waits, and moved by the
 * release in its turn; once all of them went back and passed ({@link ParkedGroup#drained}), it goes
 * on — it came after them all. It never overtakes them. A released message that fails again becomes the group's new head
 * and the rest park behind it. A release that stopped half-way is taken up by the next one, with
 * the same token, so what it sent back still passes. A message of the producer's that reaches the
 * listener among the copies after the release ended its pass keeps the group parked past the last
 * copy: the release watches for that and moves it too ({@code GroupRelease}), and the last copy's
 * pass warns of one left so ({@code ParkedAmongCopies}).
 */
public final class GroupParker {

    /** The message attribute (SQS) or header (Kafka) that carries a release's token and number: {@link #releaseValue}. */
    public static final String RELEASE_ATTRIBUTE = "ferry.release";

    /** The longest reason kept with a parked group (the rest is cut: a store's items are bounded). */
    static final int MAX_REASON = 2_000;
    /**
     * The longest event key kept whole as a group's head, in chars. A longer one is kept as its start and a
     * hash of the whole: the sender's key went whole into the stored group (DynamoDB refuses an item over
     * 400 KB, and the group stayed stuck behind a ledger "failure" for ever) and into every dead letter's
     * reason, which transports cut (SQS at 4,000 chars), so the head was then no longer recognised.
     */
    public static final int MAX_HEAD = 512;

    /** Where a release stands after {@link #finish}. */
    public enum Finish {
        /** Every redriven message was handled: the group flows. */
        UNPARKED,
        /** All back in the source, watched a while: the last to pass unparks the group (unless one parks among them). */
        CLOSING,
        /**
         * Some parked messages are not (or not yet seen) out of the dead-letter destination, or were parked among the
         * copies after the release's last round: move again.
         */
        NOT_YET
    }

    /** The group changed under a release: released by someone else, or parked again behind a new head. */
    public static final class ReleaseInterrupted extends FerryException {
        public ReleaseInterrupted(String message) {
            super(message, false);
        }
    }

    /** A release's token and a message's number in it, as {@link #releaseValue} wrote them. */
    public record Pass(String token, long number) {
    }

    private final GroupParking store;
    private final Clock clock;
    /** The messages this instance parked among a closing release's copies, till the last copy passes. */
    private final ParkedAmongCopies amongCopies = new ParkedAmongCopies();

    public GroupParker(GroupParking store, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The group's state; empty when it flows. */
    public Optional<ParkedGroup> parked(String source, String group) {
        return store.parkedGroup(source, group);
    }

    /** Every parked group. */
    public List<ParkedGroup> all() {
        return store.parkedGroups();
    }

    /** The head kept for event key {@code key}: itself, or when longer than {@link #MAX_HEAD}, its start and a hash. */
    public static String headOf(String key) {
        return TransportText.bounded(key, MAX_HEAD);
    }

    /** The dead-letter reason of a message that waits behind {@code parked}'s head. */
    public static String behind(ParkedGroup parked) {
        return ParkMarks.prefix(parked.group()) + "behind " + TransportText.safe(parked.head()) + ": " + parked.reason();
    }

    /** The dead-letter reason of {@code parked}'s head itself. */
    public static String at(ParkedGroup parked) {
        return ParkMarks.prefix(parked.group()) + "at " + TransportText.safe(parked.head()) + ": " + parked.reason();
    }

    /**
     * Whether a dead letter's reason says it was parked with {@code group} (its head, or behind it): by the group's
     * bounded form, or, for a long one, by the whole group as reasons before the bounded form said it.
     */
    public static boolean parkedWith(String reason, String group) {
        return reason != null && (reason.startsWith(ParkMarks.prefix(group))
                || reason.startsWith(ParkMarks.wholePrefix(group)));
    }

    /**
     * Whether a dead letter's reason says it was parked with {@code group} for its own failure — a head, of this park or
     * of a later one — not for waiting behind one.
     */
    public static boolean parkedAsHead(String reason, String group) {
        return reason != null && (reason.startsWith(ParkMarks.prefix(group) + "at ")
                || reason.startsWith(ParkMarks.wholePrefix(group) + "at "));
    }

    /** Whether a dead letter's reason says it is {@code parked}'s head. */
    public static boolean isHead(String reason, ParkedGroup parked) {
        String at = "at " + TransportText.safe(parked.head()) + ": ";
        return reason != null && (reason.startsWith(ParkMarks.prefix(parked.group()) + at)
                || reason.startsWith(ParkMarks.wholePrefix(parked.group()) + at));
    }

    /** The {@link #RELEASE_ATTRIBUTE} value of message {@code number} (1, 2, ...) of release {@code token}. */
    public static String releaseValue(String token, long number) {
        return token + "#" + number;
    }

    /** The release a message belongs to, from its {@link #RELEASE_ATTRIBUTE} value; null when none or unreadable. */
    public static Pass pass(String value) {
        return ParkMarks.pass(value);
    }

    /**
     * Counts a message of {@code group} sent to the dead-letter destination: it parks the group
     * behind it when the group flows (or when it was a message of the release under way, which
     * failed again), else it waits behind the head. Null — nothing changed — when a message found
     * waiting behind the head ({@code behind}) finds the group no longer parked, or {@link ParkedGroup#drained
     * drained}: released meanwhile, it is to be handled after all. A message let through a drained group that
     * fails is the group's new head.
     *
     * @param key          the event key (or {@code message ID}) of the message
     * @param releaseToken the release token the message carried, null when none
     * @param behind       whether it is dead-lettered for waiting behind the head (not for its own failure)
     */
    public ParkedGroup park(String source, String group, String key, String messageId, String reason, String releaseToken,
                            boolean behind) {
        String kept = reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) + "…" : reason;
        String head = headOf(key);
        Instant now = clock.instant();
        boolean[] goesOn = {false};
        boolean[] amongClosingCopies = {false};
        var after = update(source, group, current -> {
            amongClosingCopies[0] = false; // as this try found it: another may have written between
            if (current == null) {
                return behind ? null
                        : new ParkedGroup(source, group, head, messageId, kept, now, now, 1, 0, null, 0, 0, false, 1);
            }
            if (behind && current.drained()) { // what it waited for passed meanwhile: it comes after them all
                goesOn[0] = true;
                return current;
            }
            if (!behind && (current.passes(releaseToken) || current.drained())) {
                // a released message failed again, or one let through behind them all: the group now waits behind it
                // moved no higher than parked: a move counted twice would make the new head's group look drained
                return current.next(head, messageId, kept, now, current.parked() + 1, Math.min(current.moved(),
                        current.parked()), null, 0, 0, false);
            }
            // behind the head; a release that was closing has to move this one too, so it is not done
            amongClosingCopies[0] = current.closing();
            return current.next(current.head(), current.headMessageId(), current.reason(), now, current.parked() + 1,
                    current.moved(), current.releaseToken(), current.redriven(), current.passed(), false);
        });
        if (amongClosingCopies[0]) {
            amongCopies.parked(after);
        }
        return goesOn[0] ? null : after;
    }

    /**
     * Message {@code number} of release {@code token} was handled; the last one to be unparks the group — or, when a
     * message this instance parked among the copies still waits, warns that the group stays parked.
     */
    public void passed(String source, String group, String token, long number) {
        var after = update(source, group, current -> {
            if (current == null || !current.passes(token) || number <= current.passed()) {
                return current;
            }
            if (current.closing() && number >= current.redriven()) {
                return null;
            }
            return current.next(current.head(), current.headMessageId(), current.reason(), current.lastParked(),
                    current.parked(), current.moved(), token, current.redriven(), number, current.closing());
        });
        amongCopies.passed(source, group, token, number, after);
    }

    /**
     * Starts a release of a parked group, or takes up the one under way (same token, so what it sent
     * back still passes, in order); the token goes on every message sent back.
     */
    public String beginRelease(String source, String group) {
        String fresh = UUID.randomUUID().toString();
        var started = update(source, group, current -> {
            if (current == null) {
                throw new ReleaseInterrupted("group " + group + " of '" + source + "' is not parked");
            }
            if (current.releaseToken() != null) {
                return current.closing() ? current.next(current.head(), current.headMessageId(), current.reason(),
                        current.lastParked(), current.parked(), current.moved(), current.releaseToken(), current.redriven(),
                        current.passed(), false) : current;
            }
            return current.next(current.head(), current.headMessageId(), current.reason(), current.lastParked(),
                    current.parked(), current.moved(), fresh, 0, 0, false);
        });
        return started.releaseToken();
    }

    /**
     * The release took {@code counted} parked messages out of the dead-letter destination, of which
     * it sent {@code redriven} back to the source (the others were skipped: a dropped head). What
     * left the destination is counted even when the group was parked again meanwhile; not once another release began.
     */
    public ParkedGroup moved(String source, String group, String token, long counted, long redriven) {
        var after = update(source, group, current -> {
            if (current == null) {
                return null;
            }
            boolean ours = current.passes(token);
            if (!ours && current.releaseToken() != null) {
                // another release under way: both read one cursor, so what this one moved that one may move too —
                // counted by both, more moved than parked, and the group unparked with a dead letter left (counted short)
                return current;
            }
            return current.next(current.head(), current.headMessageId(), current.reason(), current.lastParked(),
                    current.parked(), current.moved() + counted, current.releaseToken(),
                    current.redriven() + (ours ? redriven : 0), current.passed(), current.closing());
        });
        GroupRelease.ensureReleasing(after, source, group, token);
        return after;
    }

    /**
     * Ends a release if its pass over the dead-letter destination, which began when {@code parkedBefore}
     * messages were counted parked, saw them all: none was parked meanwhile, and every one counted
     * was moved — or, since a message delivered twice is counted twice, the last was parked at least
     * {@code settled} ago, longer than a dead letter takes to arrive. Else {@link Finish#NOT_YET}.
     */
    public Finish finish(String source, String group, String token, long parkedBefore, Duration settled) {
        return finish(source, group, token, parkedBefore, settled, false);
    }

    /** As {@link #finish(String, String, String, long, Duration)}; {@code missingGivenUp}: see {@link #release}'s last. */
    public Finish finish(String source, String group, String token, long parkedBefore, Duration settled,
                         boolean missingGivenUp) {
        var result = new Finish[1];
        Instant now = clock.instant();
        update(source, group, current -> {
            GroupRelease.ensureReleasing(current, source, group, token);
            // a message counted twice is forgiven once the last park has settled, but only when something was moved (or
            // passed: its move's count lost): a mover that finds none of the group's messages is looking in the wrong place
            boolean quiet = current.parked() == parkedBefore && (current.moved() >= current.parked()
                    || (missingGivenUp || current.moved() > 0 || current.passed() > 0)
                    && !current.lastParked().plus(settled).isAfter(now));
            if (!quiet) {
                result[0] = Finish.NOT_YET;
                return current;
            }
            if (current.passed() >= current.redriven()) {
                result[0] = Finish.UNPARKED;
                return null;
            }
            result[0] = Finish.CLOSING;
            return current.next(current.head(), current.headMessageId(), current.reason(), current.lastParked(),
                    current.parked(), current.moved(), token, current.redriven(), current.passed(), true);
        });
        return result[0];
    }

    /** Takes a parked group's messages out of the dead-letter destination, in order, back to its source. */
    @FunctionalInterface
    public interface Mover {
        /**
         * Moves, in their order, the dead letters of {@code parked}'s group whose reason says they were
         * parked with it ({@link #parkedWith}), each sent back to the source carrying
         * {@link #releaseValue}({@code token}, n) in {@link #RELEASE_ATTRIBUTE}, numbered on from
         * {@code parked.redriven() + 1} — except the head ({@link #isHead}) when {@code skipHead},
         * which is only deleted. Copy first, delete after.
         */
        Moved move(ParkedGroup parked, String token, boolean skipHead);

        /**
         * {@link #move(ParkedGroup, String, boolean)}, telling {@code progress} what it took out so far as each batch is
         * done (its copies made, its originals deleted): recorded at once, a group whose every parked message went back
         * and passed lets what its producer sends meanwhile go on ({@link ParkedGroup#drained}) instead of parking it
         * behind — a release would otherwise never end while the producer sends. A mover that does not override this
         * reports all at the end.
         */
        default Moved move(ParkedGroup parked, String token, boolean skipHead, Progress progress) {
            return move(parked, token, skipHead);
        }

        /**
         * Whether whoever runs the release is going away (Ferry's close, the CLI's Ctrl-C), asked while it watches its
         * copies pass: no batch is under way to ask {@link Progress#stopping} of, and a close waits for releases only
         * seconds. A mover that cannot tell says no.
         */
        default boolean stopping() {
            return false;
        }
    }

    /** What a {@link Mover} took out so far in one move, as running totals: {@code counted}, {@code redriven}. */
    @FunctionalInterface
    public interface Progress {
        void movedSoFar(long counted, long redriven);

        /** May be asked before a batch goes back: false once the group is parked behind a new head (stop, send none). */
        default boolean stillReleasing() { return true; }

        /** Asked before each batch, ahead of the above: true once whoever runs the release goes away (end, send none). */
        default boolean stopping() { return false; }
    }

    /**
     * What a {@link Mover#move} took out: {@code counted} parked messages, {@code redriven} sent back, {@code dropped}
     * deleted only (skip-head); {@code problem}: why it stopped early (null if not; what it moved before still counts).
     */
    public record Moved(long counted, long redriven, long dropped, String problem) {
        public Moved(long counted, long redriven, String problem) { // dropped: all it counted and did not send back
            this(counted, redriven, Math.max(0, counted - redriven), problem);
        }

        public Moved(long counted, long redriven) { this(counted, redriven, null); }
    }

    /**
     * What a {@link #release} did; {@code notFound}: parked messages counted that the release ended without finding
     * in the dead-letter destination — counted twice (a message delivered twice is parked twice), or gone from it
     * (deleted by its retention or by hand: a head among them is lost, and the release must say so).
     */
    public record Released(Finish finish, long redriven, long skipped, long notFound) {
        public Released(Finish finish, long redriven, long skipped) {
            this(finish, redriven, skipped, 0);
        }
    }

    /**
     * Releases a parked group: moves its parked messages back with {@code mover} until a pass finds them all back
     * ({@link #finish}, waiting up to {@code patience} for messages still on their way to the dead-letter destination),
     * then unparks it or watches them pass for up to {@code patience} more, moving in turn what parks among them, and
     * leaves the rest to the listener that handles the last. {@link Finish#NOT_YET} means the patience (or the rounds)
     * ran out: the group stays parked, and a release can be run again. One release of a group at a time.
     *
     * @throws ReleaseInterrupted when the group is not parked, or was parked again behind a new head meanwhile
     * @throws FerryException     when the mover stopped early: the group stays parked, and a release can
     *                            be run again (it takes up this one)
     */
    public Released release(String source, String group, boolean skipHead, Mover mover, Duration patience)
            throws InterruptedException {
        return release(source, group, skipHead, null, mover, patience);
    }

    /**
     * {@link #release(String, String, boolean, Mover, Duration)}, dropping the head only if it is
     * still {@code expectedHead} — the one the operator looked at (its event key): a group parked again
     * behind another head meanwhile (another operator's release, on another instance) would otherwise
     * have that one dropped unseen. Null: whatever the head is.
     *
     * @throws ReleaseInterrupted also when the head is no longer {@code expectedHead}; nothing was moved by this call then
     */
    public Released release(String source, String group, boolean skipHead, String expectedHead, Mover mover,
                            Duration patience) throws InterruptedException {
        return release(source, group, skipHead, expectedHead, mover, patience, false);
    }

    /** As above; {@code giveUpMissing}: the operator says those not found are gone (retention, by hand): given up, the
     *  group flows. Without it, none found stays "not yet": held by another reader, on their way, or looked for elsewhere. */
    public Released release(String source, String group, boolean skipHead, String expectedHead, Mover mover,
                            Duration patience, boolean giveUpMissing) throws InterruptedException {
        return new GroupRelease(this, source, group).run(skipHead, expectedHead, mover, patience, giveUpMissing);
    }

    private ParkedGroup update(String source, String group, UnaryOperator<ParkedGroup> change) {
        return ParkedGroupWrites.update(store, source, group, change);
    }
}
