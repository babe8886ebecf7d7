package dev.ferry.app;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A redrive's progress: how many moved of how many, the rate and the time left. On a terminal one
 * line is redrawn as a bar; elsewhere (a log, a CI job) a plain line is written every 10 seconds, and
 * once at the end.
 */
final class RedriveProgressLine {

    private static final int BAR = 30;

    private final PrintWriter out;
    private final boolean terminal;
    private final long total;
    private final LongSupplier nanos;
    private final long everyNanos;
    private final long started;
    private long lastPrinted;
    private long moved;
    private long failed;

    RedriveProgressLine(PrintWriter out, boolean terminal, long total) {
        this(out, terminal, total, System::nanoTime, Duration.ofSeconds(10));
    }

    RedriveProgressLine(PrintWriter out, boolean terminal, long total, LongSupplier nanos, Duration every) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
        this.nanos = nanos;
        this.everyNanos = every.toNanos();
        this.started = nanos.getAsLong();
        this.lastPrinted = started;
    }

    PrintWriter out() {
        return out;
    }

    /** Whether standard output is an interactive terminal (then the bar is drawn). */
    static boolean onTerminal() {
        var console = System.console();
        if (console == null) {
            return false;
        }
        try { // Java 22+: a Console exists even when redirected; isTerminal() tells
            return (boolean) console.getClass().getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException | RuntimeException olderJava) {
            return true;
        }
    }

    synchronized void update(long movedSoFar, long failedSoFar) {
        this.moved = movedSoFar;
        this.failed = failedSoFar;
        long now = nanos.getAsLong();
        if (terminal) {
            out.print("\r" + line(now, true));
            out.flush();
        } else if (now - lastPrinted >= everyNanos) {
            lastPrinted = now;
            out.println("redrive: " + line(now, false));
        }
    }

    /** Moved so far, as last told. */
    synchronized long moved() {
        return moved;
    }

    /** Left behind so far (their copies failed), as last told. */
    synchronized long failed() {
        return failed;
    }

    /** The last word: the bar ends its line; elsewhere a final line if anything moved since the last one. */
    synchronized void finish() {
        long now = nanos.getAsLong();
        if (terminal) {
            out.println("\r" + line(now, true));
        } else if (moved + failed > 0) {
            out.println("redrive: " + line(now, false));
        }
    }

    String line(long now, boolean bar) {
        long done = moved + failed;
        double seconds = Math.max(1e-9, (now - started) / 1e9);
        double rate = done / seconds;
        var sb = new StringBuilder();
        if (bar && total > 0) {
            int filled = (int) Math.min(BAR, done * BAR / total);
            sb.append('[').append("#".repeat(filled)).append("-".repeat(BAR - filled)).append("] ");
        }
        sb.append(moved).append(total > 0 ? " of about " + total : "").append(" moved");
        if (total > 0) {
            sb.append(" (").append(Math.min(100, done * 100 / total)).append("%)");
        }
        if (failed > 0) {
            sb.append(", ").append(failed).append(" stayed behind");
        }
        sb.append(", ").append(Math.round(rate)).append(" msg/s");
        if (total > done && rate > 0) {
            sb.append(", ETA ").append(eta(Math.round((total - done) / rate)));
        }
        return sb.toString();
    }

    private static String eta(long seconds) {
        return seconds >= 3600 ? seconds / 3600 + "h" + (seconds % 3600) / 60 + "m"
                : seconds >= 60 ? seconds / 60 + "m" + seconds % 60 + "s" : seconds + "s";
    }
}
