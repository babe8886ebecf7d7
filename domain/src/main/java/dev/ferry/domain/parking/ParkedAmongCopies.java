package dev.ferry.domain.parking;

import java.lang.System.Logger.Level;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Messages of the producer's that this instance parked among the copies of a closing release, until the last copy
 * passes. Such a message reached the listener before the copies sent back ahead of it had passed, so it was parked
 * behind them — and the group is no longer closing: the last copy's pass leaves it parked, that message in the
 * dead-letter destination, until a release moves it. The release watches for this a while ({@link GroupRelease}); past
 * that, nothing said so — the release had answered "released", every later message of the group parked behind, and
 * only {@code ferry groups list} hinted at it. So the last copy's pass warns, once, naming the release to run.
 *
 * <p>Noted by the instance that parked the message, not read from the stored state: a group whose listener caught up
 * with its release's mover (the last copy sent so far handled before the next batch went back) looks the same there,
 * and a warning at each such pass would cry wolf on most releases. A last copy handled by another instance (SQS, more
 * than one) passes unwarned; its note is dropped with the rest once {@link #MAX_NOTES} are kept.
 */
final class ParkedAmongCopies {

    private static final System.Logger LOG = System.getLogger(GroupParker.class.getName());

    /** Notes kept at most: those whose last copy passed on another instance are never taken off. */
    static final int MAX_NOTES = 10_000;

    private record Note(String source, String group, String token) {
    }

    private final Set<Note> notes = ConcurrentHashMap.newKeySet();

    /** A message was parked behind the copies of a closing release; {@code after}: the group now. */
    void parked(ParkedGroup after) {
        if (after == null || after.releaseToken() == null) {
            return;
        }
        if (notes.size() >= MAX_NOTES) {
            notes.clear(); // a warning missed, where notes left by other instances' passes would be held for good
        }
        notes.add(new Note(after.source(), after.group(), after.releaseToken()));
    }

    /**
     * Copy {@code number} of release {@code token} was handled, leaving the group {@code after} (null: it flows). The
     * last copy's pass — the last the release counted — takes the note off, and warns when the group stays parked with
     * messages waiting.
     */
    void passed(String source, String group, String token, long number, ParkedGroup after) {
        if (notes.isEmpty()) {
            return;
        }
        boolean ours = after != null && after.passes(token);
        if (ours && number != after.redriven()) {
            // copies still to pass (the last may yet unpark the group), or past the count: a move is under way, its
            // copies sent before it recorded them, the message waiting perhaps among what it moves
            return;
        }
        if (notes.remove(new Note(source, group, token)) && ours && !after.closing() && after.waiting() > 0) {
            // once a pass, not a message: every later message of the group parks behind and would say it again
            String named = TransportText.safe(GroupParker.headOf(group));
            // no apostrophes: MessageFormat reads them as quotes
            LOG.log(Level.WARNING, "group {0} of source {1}: the last message its release sent back was handled, but "
                    + "{2} parked message(s) wait in the dead-letter destination, parked behind them while they were being "
                    + "handled; the group stays parked, every later message of it parked too, until a release moves them: "
                    + "if none is under way, run ferry groups release {0} --source {1}", named,
                    TransportText.safe(source), after.waiting());
        }
    }
}
