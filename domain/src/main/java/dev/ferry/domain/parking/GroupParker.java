package dev.ferry.domain.parking;

import dev.ferry.domain.model.FerryException;
import java.time.Clock;
import java.time.Duration;
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
 * parks it: the group's head). Nothing of a parked group is handled — except the messages of a
 * release under way, which carry its token in the {@link #RELEASE_ATTRIBUTE} attribute.
 *
 * <p>A release (the CLI's {@code ferry groups release}) goes: {@link #beginRelease} (a fresh
 * token); move the group's parked messages out of the dead-letter destination, in order, back to the
 * source with the token, reporting each round to {@link #moved}; then {@link #finish}, which says
 * {@link Finish#NOT_YET} while parked messages are still on their way to the dead-letter destination
 * (move again). Once everything is back, the group is unparked by whoever comes last: the release
 * when every redriven message has already been handled, else the listener that handles the last of
 * them ({@link #passed}). So a message the producer sends meanwhile is either parked behind the others
 * (and the group stays parked, to be released again) or comes after all of them: never before.
 * If a released message fails again it becomes the group's new head and the rest park behind it.
 */
public final class GroupParker {

    /** The message attribute (SQS) or header (Kafka) that carries a release's token. */
    public static final String RELEASE_ATTRIBUTE = "ferry.release";

    private static final int MAX_TRIES = 64;

    /** Where a release stands after {@link #finish}. */
    public enum Finish {
        /** Every redriven message was handled: the group flows. */
        UNPARKED,
        /** Everything is back in the source; the listener that handles the last message unparks the group. */
        CLOSING,
        /** Some parked messages are not in the dead-letter destination yet: move again. */
        NOT_YET
    }

    /** The group changed under a release: released by someone else, or parked again behind a new head. */
    public static final class ReleaseInterrupted extends FerryException {
        public ReleaseInterrupted(String message) {
            super(message, false);
        }
    }

    private final GroupParking store;
    private final Clock clock;

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

    /** The dead-letter reason of a message that waits behind {@code parked}'s head. */
    public static String behind(ParkedGroup parked) {
        return prefix(parked.group()) + "behind " + parked.head() + ": " + parked.reason();
    }

    /** The dead-letter reason of {@code parked}'s head itself. */
    public static String at(ParkedGroup parked) {
        return prefix(parked.group()) + "at " + parked.head() + ": " + parked.reason();
    }

    /** Whether a dead letter's reason says it was parked with {@code group} (its head, or behind it). */
    public static boolean parkedWith(String reason, String group) {
        return reason != null && reason.startsWith(prefix(group));
    }

    /** Whether a dead letter's reason says it is {@code parked}'s head. */
    public static boolean isHead(String reason, ParkedGroup parked) {
        return reason != null && reason.startsWith(prefix(parked.group()) + "at " + parked.head() + ": ");
    }

    private static String prefix(String group) {
        return "group " + group + " parked ";
    }

    /**
     * Counts a message of {@code group} sent to the dead-letter destination: it parks the group
     * behind it when the group flows (or when it was a message of the release under way, which
     * failed again), else it waits behind the head.
     *
     * @param key          the event key (or {@code message ID}) of the message
     * @param releaseToken the release token the message carried, null when none
     */
    public ParkedGroup park(String source, String group, String key, String messageId, String reason, String releaseToken) {
        return update(source, group, current -> {
            if (current == null) {
                return new ParkedGroup(source, group, key, messageId, reason, clock.instant(), 1, 0, null, 0, 0, false, 1);
            }
            if (current.passes(releaseToken)) { // a released message failed again: the group now waits behind it
                return current.next(key, messageId, reason, current.parked() + 1, current.moved(), null, 0, 0, false);
            }
            // behind the head; a release that was closing has to move this one too, so it is not done
            return current.next(current.head(), current.headMessageId(), current.reason(), current.parked() + 1,
                    current.moved(), current.releaseToken(), current.redriven(), current.passed(), false);
        });
    }

    /** A message of the release {@code token} was handled; the last one to be unparks the group. */
    public void passed(String source, String group, String token) {
        update(source, group, current -> {
            if (current == null || !current.passes(token)) {
                return current;
            }
            long passed = current.passed() + 1;
            if (current.closing() && passed >= current.redriven()) {
                return null;
            }
            return current.next(current.head(), current.headMessageId(), current.reason(), current.parked(),
                    current.moved(), token, current.redriven(), passed, current.closing());
        });
    }

    /** Starts a release of a parked group; its token goes on every message sent back. */
    public String beginRelease(String source, String group) {
        String token = UUID.randomUUID().toString();
        update(source, group, current -> {
            if (current == null) {
                throw new ReleaseInterrupted("group " + group + " of '" + source + "' is not parked");
            }
            return current.next(current.head(), current.headMessageId(), current.reason(), current.parked(),
                    current.moved(), token, 0, 0, false);
        });
        return token;
    }

    /**
     * The release took {@code counted} parked messages out of the dead-letter destination, of which
     * it sent {@code redriven} back to the source (the others were skipped: a dropped head).
     */
    public ParkedGroup moved(String source, String group, String token, long counted, long redriven) {
        return update(source, group, current -> {
            ensureReleasing(current, source, group, token);
            return current.next(current.head(), current.headMessageId(), current.reason(), current.parked(),
                    current.moved() + counted, token, current.redriven() + redriven, current.passed(), current.closing());
        });
    }

    /** Ends a release once all its parked messages are back: see {@link Finish}. */
    public Finish finish(String source, String group, String token) {
        var result = new Finish[1];
        update(source, group, current -> {
            ensureReleasing(current, source, group, token);
            if (current.moved() < current.parked()) {
                result[0] = Finish.NOT_YET;
                return current;
            }
            if (current.passed() >= current.redriven()) {
                result[0] = Finish.UNPARKED;
                return null;
            }
            result[0] = Finish.CLOSING;
            return current.next(current.head(), current.headMessageId(), current.reason(), current.parked(),
                    current.moved(), token, current.redriven(), current.passed(), true);
        });
        return result[0];
    }

    /** Takes a parked group's messages out of the dead-letter destination, in order, back to its source. */
    @FunctionalInterface
    public interface Mover {
        /**
         * Moves, in their order, the dead letters of {@code parked}'s group whose reason says they were
         * parked with it ({@link #parkedWith}), each sent back to the source carrying {@code token} in
         * {@link #RELEASE_ATTRIBUTE} — except the head ({@link #isHead}) when {@code skipHead}, which is
         * only deleted. Copy first, delete after.
         */
        Moved move(ParkedGroup parked, String token, boolean skipHead);
    }

    /**
     * What one {@link Mover#move} took out: {@code counted} parked messages, {@code redriven} of them
     * sent back; {@code problem} says why it stopped early (null when it did not), what it moved
     * before that still counts.
     */
    public record Moved(long counted, long redriven, String problem) {
        public Moved(long counted, long redriven) {
            this(counted, redriven, null);
        }
    }

    /** What a {@link #release} did. */
    public record Released(Finish finish, long redriven, long skipped) {
    }

    /**
     * Releases a parked group: moves its parked messages back with {@code mover} until every parked
     * one is back (waiting up to {@code patience} for those still on their way to the dead-letter
     * destination), then unparks it or leaves the unparking to the listener that handles the last.
     * A result of {@link Finish#NOT_YET} means some never arrived within the patience: the group
     * stays parked, and a release can be run again.
     *
     * @throws ReleaseInterrupted when the group is not parked, or was parked again meanwhile
     * @throws FerryException when the mover stopped early: the group stays parked, and a release can
     *                        be run again
     */
    public Released release(String source, String group, boolean skipHead, Mover mover, Duration patience)
            throws InterruptedException {
        String token = beginRelease(source, group);
        long deadline = System.nanoTime() + patience.toNanos();
        long redriven = 0;
        long skipped = 0;
        while (true) {
            var state = parked(source, group).orElse(null);
            ensureReleasing(state, source, group, token);
            var moved = mover.move(state, token, skipHead);
            moved(source, group, token, moved.counted(), moved.redriven());
            redriven += moved.redriven();
            skipped += moved.counted() - moved.redriven();
            if (moved.problem() != null) { // the group stays parked; what went back passes, the rest waits for the next release
                throw new FerryException("releasing group " + group + " of '" + source + "' stopped after " + redriven
                        + " message(s): " + moved.problem(), true);
            }
            var finish = finish(source, group, token);
            if (finish != Finish.NOT_YET || System.nanoTime() - deadline > 0) {
                return new Released(finish, redriven, skipped);
            }
            Thread.sleep(200);
        }
    }

    private static void ensureReleasing(ParkedGroup current, String source, String group, String token) {
        if (current == null) {
            throw new ReleaseInterrupted("group " + group + " of '" + source + "' was released by someone else meanwhile");
        }
        if (!current.passes(token)) {
            throw new ReleaseInterrupted("group " + group + " of '" + source + "' was parked again behind " + current.head()
                    + " (" + current.reason() + ") or another release began meanwhile");
        }
    }

    /** Applies {@code change} to the stored state until no other instance changed it in between. */
    private ParkedGroup update(String source, String group, UnaryOperator<ParkedGroup> change) {
        for (int i = 0; i < MAX_TRIES; i++) {
            var current = store.parkedGroup(source, group).orElse(null);
            var next = change.apply(current);
            if (next == current || store.replaceParkedGroup(current, next)) {
                return next;
            }
            Thread.onSpinWait();
        }
        throw new FerryException("parked group " + group + " of '" + source + "' kept changing under "
                + MAX_TRIES + " tries", true);
    }
}
