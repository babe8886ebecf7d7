package dev.ferry.domain.listener;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * The listener's own line per dead letter (logger {@value #LOGGER}, for embedders; the packaged app
 * writes its own): the first {@value #BURST} of a listener in ten seconds whole, the rest counted and
 * said in one line when the next comes after that window, or at the stop. A poison storm of a million
 * messages wrote a million lines; the dead-letter queue keeps every one.
 */
final class DeadLetterLines {

    static final String LOGGER = "dev.ferry.domain.listener.DeadLetters";
    private static final System.Logger LOG = System.getLogger(LOGGER);
    static final int BURST = 20;
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final String name;
    private long windowStart = System.nanoTime();
    private int written;
    private long leftOut;

    DeadLetterLines(String name) {
        this.name = name;
    }

    synchronized void deadLettered(String id, String reason) {
        long now = System.nanoTime();
        if (now - windowStart >= WINDOW_NANOS) {
            flush();
            windowStart = now;
            written = 0;
        }
        if (written < BURST) {
            written++;
            LOG.log(Level.WARNING, "dead-lettering message {0} from ''{1}'': {2}", id, name, reason);
        } else {
            leftOut++;
        }
    }

    /** Says how many were left out and not said yet. */
    synchronized void flush() {
        if (leftOut > 0) {
            LOG.log(Level.WARNING, "{0} more dead letters from ''{1}'' not logged one by one (at most {2} such lines in 10s; "
                    + "the dead-letter queue keeps each)", leftOut, name, BURST);
            leftOut = 0;
        }
    }
}
