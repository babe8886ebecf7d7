package dev.ferry.app;

import dev.ferry.adapters.sqs.OtherQueuesLetters;
import dev.ferry.adapters.sqs.SqsQueues;
import java.util.List;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * What {@code ferry queues redrive} refuses and says of a dead-letter queue that other queues than its {@code --to} send
 * to. Their dead letters are theirs: a review found {@code orders} and {@code payments} sharing {@code shared-dlq}, and a
 * redrive of it to {@code orders} ran payments' letters through orders' routes, never reaching payments' sinks, exit 0 —
 * Ferry's redrive leaves them now ({@link OtherQueuesLetters}), and this says so; SQS's move task cannot leave any.
 */
final class SharedDeadLetterQueue {

    /** Queues named in a report when it may name more: {@link SqsQueues.RedriveReport#otherQueues} stops there. */
    private static final int NAMED = 10;

    private SharedDeadLetterQueue() {
    }

    /**
     * Why a redrive of {@code from} (serving the queues {@code servedBy}) to {@code targetUrl} is refused unless forced;
     * null when it is not, or when there is no {@code --to}.
     */
    static String refusal(String from, String to, String targetUrl, boolean nativeTask, List<String> servedBy) {
        if (targetUrl == null) {
            return null;
        }
        if (!servedBy.isEmpty() && servedBy.stream().noneMatch(u -> ParkingDeadLetters.sameQueue(u, targetUrl))) {
            // a slip of --to (payments for orders) ran one pipeline's dead letters through another's
            return "--to " + to + " is not a queue whose dead-letter queue " + from + " is (it serves "
                    + String.join(", ", servedBy) + "); --force to move its messages there all the same";
        }
        if (nativeTask && servedBy.size() > 1) {
            // SQS's move task moves every message it finds to the one queue: it cannot tell another queue's apart
            return "--native --to " + to + " would move every message in " + from + " to " + to + ", the dead letters of "
                    + "the other queues it serves too (it serves " + String.join(", ", servedBy) + "): SQS's message move "
                    + "task cannot leave them behind. Redrive without --native (Ferry's redrive leaves them in " + from
                    + "), or --force to move them all to " + to;
        }
        return null;
    }

    /**
     * What a dry run of a redrive to {@code targetUrl} says of the letters it would leave for other queues, read from the
     * DLQ ({@code max} of them at most, null: all); empty when none would stay, and unread when the DLQ serves the target
     * alone (read whole for nothing: a dry run of 10,000 letters, a thousand receives).
     */
    static String wouldStay(SqsClient client, String dlqUrl, String targetUrl, List<String> servedBy, Integer max,
                            String from) {
        if (servedBy.size() == 1 && ParkingDeadLetters.sameQueue(servedBy.getFirst(), targetUrl)) {
            return "";
        }
        var count = OtherQueuesLetters.count(client, dlqUrl, targetUrl, max == null ? Integer.MAX_VALUE : max);
        if (count.left() == 0) {
            return "";
        }
        return "; of the " + (count.whole() ? "" : "first ") + count.read() + " message(s) read, " + count.left()
                + " were dead-lettered from other queues (" + named(count.queues()) + ") and would stay in " + from
                + (dlqUrl.endsWith(".fifo") ? ", with those behind them in their groups" : "") + " (--force moves them too)";
    }

    /** What the redrive's last line says of the other queues' letters it left in {@code from}; empty when none. */
    static String said(SqsQueues.RedriveReport report, String from, String where, boolean fifo) {
        if (report.otherQueuesLetters() == 0) {
            return "";
        }
        // on a FIFO DLQ a group's later letters wait behind its first: one of another queue's left, they stay with it
        return "; " + report.otherQueuesLetters() + " dead letter(s) of other queues stay in " + from
                + (report.otherQueues().isEmpty() ? "" : " (dead-lettered from " + named(report.otherQueues()) + ")")
                + (fifo ? ", with those behind them in their groups" : "")
                + ": redrive them to their own queues, or with --force to " + where + " too";
    }

    private static String named(List<String> queues) {
        return Printable.of(String.join(", ", queues)) + (queues.size() >= NAMED ? " and perhaps more" : "");
    }
}
