package dev.ferry.domain.listener;

import dev.ferry.domain.transport.Settlement;
import java.lang.System.Logger.Level;
import java.util.List;

/**
 * The settler's lines of one message each, each kind bounded by a {@link LineBurst}: a dead letter (logger
 * {@value #LOGGER}, for embedders; the packaged app writes its own) — a poison storm of a million messages
 * wrote a million lines, the dead-letter queue keeps every one — and a settlement the transport refused (a
 * throttled {@code DeleteMessageBatch} wrote one per message).
 */
final class SettlerLines {

    static final String LOGGER = "dev.ferry.domain.listener.DeadLetters";
    private static final System.Logger DEAD_LETTERS = System.getLogger(LOGGER);
    private static final System.Logger LOG = System.getLogger(Listener.class.getName());
    static final int BURST = LineBurst.BURST;

    private final String name;
    private final AsideLog aside;
    private final LineBurst deadLetters;
    private final LineBurst refused;

    /** {@code aside}: where the refusals are written (the settler's send lock must not wait on a log). */
    SettlerLines(String name, AsideLog aside) {
        this.name = name;
        this.aside = aside;
        this.deadLetters = new LineBurst(DEAD_LETTERS, "dead letters from '" + name + "'", "the dead-letter queue keeps each");
        this.refused = new LineBurst(LOG, "refused settlements", "counted in settleFailures", aside::write);
    }

    void deadLettered(String id, String reason) {
        if (deadLetters.take()) {
            DEAD_LETTERS.log(Level.WARNING, "dead-lettering message {0} from ''{1}'': {2}", id, name, reason);
        }
    }

    /** The refusals of one send, counted here (said at the close) and written aside. */
    void refused(List<Settlement.Failure> failures) {
        var told = failures.stream().filter(f -> refused.take()).toList();
        if (!told.isEmpty()) { // an empty one took a place in the aside queue of 64 all the same
            aside.write(() -> told.forEach(f -> LOG.log(Level.WARNING, "could not {0} message {1} of ''{2}'': {3}",
                    f.settlement().disposition(), f.settlement().delivery().id(), name, f.reason())));
        }
    }

    /** Says how many were left out and not said yet. */
    void flush() {
        deadLetters.flush();
        refused.flush();
    }
}
