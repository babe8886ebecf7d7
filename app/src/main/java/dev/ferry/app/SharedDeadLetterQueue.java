package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import java.io.PrintWriter;
import java.util.List;

/**
 * What {@code ferry queues redrive} refuses and says of a dead-letter queue that other queues than its {@code --to} send
 * to. Their dead letters are theirs: a review found {@code orders} and {@code payments} sharing {@code shared-dlq}, and a
 * redrive of it to {@code orders} ran payments' letters through orders' routes, never reaching payments' sinks, exit 0 —
 * Ferry's redrive leaves them now, and this says so; SQS's move task cannot leave any. Only {@code --with-other-queues}
 * moves them: {@code --force}, the one way past the refusal of an {@code on-poison: park} source's DLQ, moved them too,
 * into that source's queue. And whose letters the DLQ holds is read from the letters, not from the queues' redrive
 * policies, which name only the queues pointing at it now: one re-pointed, renamed or deleted left its letters there,
 * and {@code --native --to} moved them into the wrong queue unrefused. Those SQS moved there itself are known by the
 * queue it keeps on them: read as naming none, a payments letter SQS moved let {@code --native --to orders} through.
 */
final class SharedDeadLetterQueue {

    /** Queues named in a report when it may name more: {@link SqsQueues.RedriveReport#otherQueues} stops there. */
    private static final int NAMED = 10;

    private final SqsQueues queues;
    private final String from;
    private final String to;
    private final String dlqUrl;
    private final String targetUrl;
    /** The queues whose redrive policies name the DLQ now. */
    private final List<String> servedBy;
    /** What the DLQ's letters said, for {@code --native --to} and a dry run; null when they were not read. */
    private SqsQueues.LettersRead read;

    /** The DLQ {@code from} ({@code dlqUrl}) redriven to {@code to} ({@code targetUrl}; both null: where each came from). */
    SharedDeadLetterQueue(SqsQueues queues, String from, String to, String dlqUrl, String targetUrl) {
        this.queues = queues;
        this.from = from;
        this.to = to;
        this.dlqUrl = dlqUrl;
        this.targetUrl = targetUrl;
        this.servedBy = queues.deadLetterSourceQueues(dlqUrl);
    }

    /**
     * Why the redrive is refused; null when it is not. A {@code --to} that is not one of the queues the DLQ serves, unless
     * {@code force}; {@code --native --to} where the DLQ holds other queues' letters, unless {@code withOtherQueues}. For
     * that, and for a dry run, the DLQ's letters are read ({@code max} of them at most; null: all).
     */
    String refusal(boolean force, boolean withOtherQueues, boolean nativeTask, boolean dryRun, Integer max) {
        if (targetUrl == null) {
            return null;
        }
        if (!force && !servedBy.isEmpty() && servedBy.stream().noneMatch(u -> ParkingDeadLetters.sameQueue(u, targetUrl))) {
            // a slip of --to (payments for orders) ran one pipeline's dead letters through another's
            return "--to " + to + " is not a queue whose dead-letter queue " + from + " is (it serves "
                    + String.join(", ", servedBy) + "); --force to move its messages there all the same (with "
                    + "--with-other-queues, the dead letters Ferry wrote for the queues it serves too)";
        }
        if (withOtherQueues || !nativeTask && !dryRun) {
            return null;
        }
        read = queues.otherQueuesLetters(dlqUrl, targetUrl, max == null ? Integer.MAX_VALUE : max);
        if (!nativeTask) {
            return null;
        }
        // SQS's move task moves every message it finds to the one queue: it cannot tell another queue's apart
        String instead = ": SQS's message move task cannot leave them behind. Redrive without --native (Ferry's redrive "
                + "leaves them in " + from + "), or with --with-other-queues to move them all to " + to;
        if (read.left() > 0) {
            return "--native --to " + to + " would move every message in " + from + " to " + to + ", the dead letters of "
                    + "other queues too (" + readSaid() + ")" + instead + notPutBack();
        }
        var others = servedBy.stream().filter(u -> !ParkingDeadLetters.sameQueue(u, targetUrl)).toList();
        if (!readWhole() && !others.isEmpty()) { // none among those read: those past them may be the other queues'
            return "--native --to " + to + " would move every message in " + from + " to " + to + ", those past the first "
                    + read.read() + " read too, which may be dead letters of the other queues it serves ("
                    + String.join(", ", others) + ")" + instead + notPutBack();
        }
        return null;
    }

    /** What is noted before anything moves: a DLQ no queue names, and letters read that could not be put back in sight. */
    void notes(PrintWriter err, boolean dryRun) {
        if (servedBy.isEmpty()) {
            err.println("ferry: note: no queue names " + from + " as its dead-letter queue in a redrive policy; "
                    + "moving its messages anyway");
        }
        if (!dryRun && read != null && read.notPutBack() > 0) { // a dry run says it on its line
            err.println("ferry: note: " + notPutBack().substring(2));
        }
    }

    /**
     * What a dry run says of the letters that would stay for other queues, as read; empty when they were not read, or all
     * were read and none would stay.
     */
    String wouldStay() {
        if (read == null) {
            return "";
        }
        if (read.left() > 0) {
            return "; " + readSaid() + " and would stay in " + from
                    + (dlqUrl.endsWith(".fifo") ? ", with those behind them in their groups" : "")
                    + " (--with-other-queues moves them too)" + notPutBack();
        }
        // read for 20 s or 10,000 letters at most: what lies past them is not known, and not said to be none
        return (readWhole() ? "" : "; of the first " + read.read() + " message(s) read, none were dead-lettered from "
                + "other queues (those past them" + (dlqUrl.endsWith(".fifo") ? ", and each group's letters past its "
                + "first ones," : "") + " were not read)") + notPutBack();
    }

    /**
     * Whether the read saw every letter: never on a FIFO DLQ — SQS gives nothing more of a group while its letters read
     * are hidden, so another queue's letter behind a group's first ones was unseen, and a native move took it too.
     */
    private boolean readWhole() {
        return read.whole() && !dlqUrl.endsWith(".fifo");
    }

    /**
     * What the redrive's last line says of the other queues' letters it left in {@code from}, and of those another reader
     * hid from it; empty when neither. Unsaid, a redrive to orders run beside one to payments (which sets orders' letters
     * aside for 15 minutes) or a dry run ended "moved 0", exit 0, and the letters came back after it, left to retention.
     */
    static String said(SqsQueues.RedriveReport report, String from, String where) {
        String hidden = hidden(report, from);
        return othersSaid(report, from, where) + (hidden == null ? "" : "; " + hidden);
    }

    /** What a redrive says of other queues' letters it left in {@code from}; empty when none. */
    static String othersSaid(SqsQueues.RedriveReport report, String from, String where) {
        if (report.otherQueuesLetters() == 0) {
            return "";
        }
        // on a FIFO DLQ the letters behind them in their groups stayed too: the report's problem says so
        return "; " + report.otherQueuesLetters() + " dead letter(s) of other queues stay in " + from
                + (report.otherQueues().isEmpty() ? "" : " (dead-lettered from " + named(report.otherQueues()) + ")")
                + ": redrive them to their own queues, or with --with-other-queues to " + where + " too";
    }

    /**
     * The note of letters another reader hid as the run ended short, or null: a note, exit 0 (a standard queue's count
     * may lag a minute, and the letters hidden may be others'), and no failure in the console.
     */
    static String hidden(SqsQueues.RedriveReport report, String from) {
        return report.hiddenByAnotherReader() == 0 ? null : "about " + report.hiddenByAnotherReader() + " of the letters"
                + " in " + from + " were hidden by another reader (another redrive, a dry run): run it again once it ends";
    }

    private String readSaid() {
        return "of the " + (read.whole() ? "" : "first ") + read.read() + " message(s) read, " + read.left()
                + " were dead-lettered from other queues (" + named(read.queues()) + ")";
    }

    /**
     * The letters read that could not be put back in sight; empty when none. Unsaid, a real redrive of a standard DLQ run
     * at once would find none of them, "moved 0", exit 0; hidden 30 s only by their read, they come back by themselves.
     */
    private String notPutBack() {
        return read.notPutBack() == 0 ? "" : "; " + read.notPutBack() + " of the message(s) read could not be put back in "
                + "sight (" + Printable.of(read.putBackError()) + "): they come back by themselves within 30 s";
    }

    private static String named(List<String> queues) {
        return Printable.of(String.join(", ", queues)) + (queues.size() >= NAMED ? " and perhaps more" : "");
    }
}
