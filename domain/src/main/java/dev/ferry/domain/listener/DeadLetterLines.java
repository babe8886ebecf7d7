package dev.ferry.domain.listener;

import java.lang.System.Logger.Level;

/**
 * The listener's own line per dead letter (logger {@value #LOGGER}, for embedders; the packaged app
 * writes its own): bounded by a {@link LineBurst} — a poison storm of a million messages wrote a million
 * lines; the dead-letter queue keeps every one.
 */
final class DeadLetterLines {

    static final String LOGGER = "dev.ferry.domain.listener.DeadLetters";
    private static final System.Logger LOG = System.getLogger(LOGGER);
    static final int BURST = LineBurst.BURST;

    private final String name;
    private final LineBurst burst;

    DeadLetterLines(String name) {
        this.name = name;
        this.burst = new LineBurst(LOG, "dead letters from '" + name + "'", "the dead-letter queue keeps each");
    }

    void deadLettered(String id, String reason) {
        if (burst.take()) {
            LOG.log(Level.WARNING, "dead-lettering message {0} from ''{1}'': {2}", id, name, reason);
        }
    }

    /** Says how many were left out and not said yet. */
    void flush() {
        burst.flush();
    }
}
