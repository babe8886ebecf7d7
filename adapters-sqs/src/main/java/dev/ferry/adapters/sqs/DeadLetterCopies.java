package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import dev.ferry.adapters.sqs.SqsErrors.EntryError;
import java.util.ArrayList;
import java.time.Duration;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToIntFunction;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The copies an {@link SqsSource} sends to its dead-letter queue before it deletes the originals:
 * the body as received, its attributes and Ferry's reason (sanitized to what SQS accepts), on a FIFO
 * dead-letter queue in the order they were dead-lettered, one deduplication id per source message.
 */
final class DeadLetterCopies {

    private static final int MAX_REASON_CHARS = 4_000;
    /** The dead-letter queue's largest message: SQS's unless it said less (a queue kept at 256 KiB). */
    private volatile int largest = SqsSink.MAX_BATCH_BYTES;
    /** The group of copies of messages that had none (a FIFO queue's messages always have one). */
    private static final String UNGROUPED = "ferry-dead-letters";

    private final SqsClient client;
    private final String deadLetterQueueUrl;
    private final boolean fifo;
    private final String queueName;
    private final String name;
    private final int settleRetries;
    private final ExecutorService calls;
    private final LongAdder copied = new LongAdder();
    /**
     * FIFO: per group, the message whose copy failed for good, which its group's later copies wait for
     * (across settle calls: a group's dead letters often come in different ones). Cleared when its copy
     * arrives or it is acknowledged after all. Only messages received before the copy failed wait: SQS hands
     * out no later message of a FIFO group while an earlier one is in the queue or in flight, so one received
     * since comes after it (another instance copied and deleted it meanwhile). One received before has been
     * in flight since, so the failed one cannot have been copied elsewhere: it waits however long that takes.
     */
    private final Map<String, Blocker> stopped = new ConcurrentHashMap<>();

    /**
     * How long a blocker is kept, in case it never comes back to this source (another instance took it):
     * SQS's 12-hour visibility ceiling, counted from the receive, after which no message received before it
     * can still be in hand here.
     */
    static final Duration HOLD = Duration.ofSeconds(SqsSource.MAX_VISIBILITY_SECONDS);

    private final Duration hold;

    private record Blocker(String messageId, long failedAtNanos, long untilNanos) {
    }

    DeadLetterCopies(SqsClient client, String deadLetterQueueUrl, String queueName, String name, int settleRetries,
                     ExecutorService calls) {
        this(client, deadLetterQueueUrl, queueName, name, settleRetries, calls, HOLD);
    }

    /** With {@code hold} instead of {@link #HOLD} (tests). */
    DeadLetterCopies(SqsClient client, String deadLetterQueueUrl, String queueName, String name, int settleRetries,
                     ExecutorService calls, Duration hold) {
        this.hold = hold;
        this.client = client;
        this.deadLetterQueueUrl = deadLetterQueueUrl;
        this.fifo = deadLetterQueueUrl != null && deadLetterQueueUrl.endsWith(".fifo");
        this.queueName = queueName;
        this.name = name;
        this.settleRetries = settleRetries;
        this.calls = calls;
    }

    /** Messages whose copy was stored altered: their next copy goes under a dedup id of its own. */
    private final AlteredCopies altered = new AlteredCopies();

    /** Copies sent since the source was built. */
    long copied() {
        return copied.sum();
    }

    /** Sends the copies; returns the settlements whose copy arrived, adds a failure for each other one. */
    List<Settlement> send(List<Settlement> deadLetters, List<Settlement.Failure> failures) {
        if (deadLetterQueueUrl == null) {
            for (var s : deadLetters) {
                failures.add(new Settlement.Failure(s, "queue '" + name + "' has no dead-letter queue: give it a "
                        + "RedrivePolicy or configure one; the message stays in the queue", false));
            }
            return List.of();
        }
        Batches.Call<Settlement> copy = chunk -> {
            var entries = new ArrayList<SendMessageBatchRequestEntry>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                entries.add(entry(i, chunk.get(i)));
            }
            var unconfirmed = SendAnswers.unconfirmed(entries, client.sendMessageBatch(b -> b.queueUrl(deadLetterQueueUrl).overrideConfiguration(SqsTimeouts.CALLS)
                    .entries(entries)));
            if (fifo) {
                for (var e : unconfirmed) {
                    if (SendAnswers.ALTERED.equals(e.code())) {
                        altered.altered(chunk.get(Integer.parseInt(e.id())).delivery().id());
                    }
                }
            }
            return unconfirmed;
        };
        // a batch's size is its bodies and all their attributes (a reason can be 12 KB): SQS refuses one over 1 MiB whole
        var sizes = new IdentityHashMap<Settlement, Integer>();
        for (var s : deadLetters) {
            sizes.put(s, s.delivery().body().length + MessageAttributes.bytes(attributes(s)));
        }
        ToIntFunction<Settlement> bytes = sizes::get;
        var errors = fifo
                ? inGroupOrder(deadLetters, bytes, copy)
                : Batches.runConcurrently(deadLetters, bytes, SqsSink.MAX_BATCH_BYTES, settleRetries, calls, copy);
        var sent = new ArrayList<Settlement>(deadLetters.size());
        for (var s : deadLetters) {
            var error = errors.get(s);
            if (error == null) {
                sent.add(s);
            } else {
                failures.add(new Settlement.Failure(s, "dead-letter copy to '" + deadLetterQueueUrl + "' failed: " + error
                        + "; the message stays in the queue", error.retryable()));
            }
        }
        copied.add(sent.size());
        return sent;
    }

    /**
     * Copies to a FIFO dead-letter queue, each group's in the order they were dead-lettered, whatever
     * fails: a chunk carries at most one copy of a group, and a group's next copy goes only once the
     * one before it arrived. A copy sent again after a failure would otherwise arrive after a later
     * copy of its group that had gone through (in a later chunk, or beside it in the same batch —
     * SQS does not say what one failed entry does to the others of its group). A copy that fails for
     * good holds its group's later copies back: they fail too, stay in the queue and come back in
     * order. Chunks go in turn.
     */
    private synchronized Map<Settlement, EntryError> inGroupOrder(List<Settlement> deadLetters, ToIntFunction<Settlement> size,
                                                                  Batches.Call<Settlement> copy) {
        // synchronized: the settler and the pollers (screened messages) settle on one source at once, and
        // a group's blocker must not change between the check and the send
        var failed = new IdentityHashMap<Settlement, EntryError>();
        var pending = new ArrayList<>(deadLetters);
        var retried = new IdentityHashMap<Settlement, Integer>();
        boolean pause = false;
        boolean throttled = false;
        for (int round = 1; !pending.isEmpty(); round++) {
            if (pause && !Batches.pause(Math.min(round, 5), throttled)) {
                for (var s : pending) {
                    failed.put(s, new EntryError("Interrupted", "gave up retrying: thread interrupted", false));
                }
                break;
            }
            var chunk = new ArrayList<Settlement>(Batches.MAX_ENTRIES);
            var groups = new HashSet<String>();
            var pendingIds = new HashSet<String>();
            for (var s : pending) {
                pendingIds.add(s.delivery().id());
            }
            long bytes = 0;
            for (var it = pending.iterator(); it.hasNext(); ) {
                var s = it.next();
                var group = group(s);
                var blocker = blocker(group, s.delivery());
                if (blocker != null && pendingIds.contains(blocker)) {
                    continue; // the one it waits for is being copied now: after it, in a later round
                }
                if (blocker != null) {
                    failed.put(s, new EntryError("HeldBack", "held back behind message " + blocker
                            + " of its group, whose copy failed: copied after it, in order", false));
                    it.remove();
                } else if (groups.add(group) && chunk.size() < Batches.MAX_ENTRIES
                        && (chunk.isEmpty() || bytes + size.applyAsInt(s) <= SqsSink.MAX_BATCH_BYTES)) {
                    chunk.add(s);
                    bytes += size.applyAsInt(s);
                }
            }
            if (chunk.isEmpty()) {
                for (var s : pending) { // never deleted without its copy: back in the queue, in order
                    failed.put(s, new EntryError("HeldBack", "held back behind an earlier message of its group", false));
                }
                break;
            }
            var errors = Batches.run(chunk, size, SqsSink.MAX_BATCH_BYTES, 0, copy);
            pause = false;
            throttled = false;
            for (var s : chunk) {
                var error = errors.get(s);
                if (error == null) {
                    pending.remove(s);
                    stopped.computeIfPresent(group(s), (g, b) -> b.messageId().equals(s.delivery().id()) ? null : b);
                } else if (error.retryable() && retried.merge(s, 1, Integer::sum) <= settleRetries) {
                    pause = true; // stays first of its group, and goes again
                    throttled |= error.throttled();
                } else {
                    failed.put(s, error);
                    pending.remove(s);
                    long now = System.nanoTime();
                    stopped.values().removeIf(b -> now - b.untilNanos() > 0); // rare: a copy failed for good
                    stopped.put(group(s), new Blocker(s.delivery().id(), now, now + hold.toNanos()));
                }
            }
        }
        return failed;
    }

    /**
     * The message {@code delivery}'s copy waits for: none when it is that message itself, or when it was
     * received after that message's copy failed (so after that message). One received before waits however
     * long: letting it go once a time ran out put it in the dead-letter queue ahead of the failed one.
     */
    private String blocker(String group, Delivery delivery) {
        var b = stopped.get(group);
        if (b == null || b.messageId().equals(delivery.id())) {
            return null;
        }
        if (delivery.receipt() instanceof SqsReceipt r && r.receivedAtNanos() - b.failedAtNanos() > 0) {
            return null;
        }
        return b.messageId();
    }

    /** Messages deleted (all but those in {@code failed}): a group that waited for one of them waits no longer. */
    void acknowledged(List<Settlement> deleted, Map<Settlement, EntryError> failed) {
        if (stopped.isEmpty()) {
            return; // the usual case, on every batch of acks: nothing to look at
        }
        for (var s : deleted) {
            if (!failed.containsKey(s)) {
                stopped.computeIfPresent(group(s), (g, b) -> b.messageId().equals(s.delivery().id()) ? null : b);
            }
        }
    }

    private static String group(Settlement s) {
        return s.delivery().groupKey() != null ? s.delivery().groupKey() : UNGROUPED;
    }

    private SendMessageBatchRequestEntry entry(int index, Settlement s) {
        var d = s.delivery();
        var entry = SendMessageBatchRequestEntry.builder()
                .id(Integer.toString(index))
                .messageBody(new String(d.body(), StandardCharsets.UTF_8))
                .messageAttributes(attributes(s));
        if (fifo) {
            // one dedup id per source message: a copy sent again after a failed delete is dropped by SQS — but not
            // after a copy stored altered: SQS would drop the good one as its duplicate and answer with the hash of
            // what was sent, and the original was deleted with only the altered copy kept
            Integer times = altered.times(d.id());
            entry.messageGroupId(group(s)).messageDeduplicationId("dlq-" + d.id() + (times == null ? "" : "-" + times));
        }
        return entry.build();
    }

    /**
     * The copy's attributes: Ferry's (the reason first) and the original's. A message near SQS's largest is given a
     * reason cut to fit: Ferry's attributes (a reason of up to 12 KB) made its copy one SQS refused for good, every lease
     * — the message back each time, its FIFO group held, its dead letter never written.
     */
    private Map<String, MessageAttributeValue> attributes(Settlement s) {
        var d = s.delivery();
        var own = ((SqsReceipt) d.receipt()).messageAttributes();
        String reason = sanitize(((Disposition.DeadLetter) s.disposition()).reason());
        var attributes = MessageAttributes.forDeadLetter(own, reason, queueName, name, d.receiveCount(), identity(d));
        int over = d.body().length + MessageAttributes.bytes(attributes) - largest;
        return over <= 0 ? attributes : MessageAttributes.forDeadLetter(own, cut(reason, over), queueName, name,
                d.receiveCount(), identity(d));
    }

    /** The dead-letter queue's largest message as it says (MaximumMessageSize); 0 or more than SQS's: SQS's. */
    void largest(int bytes) {
        largest = bytes > 0 && bytes < SqsSink.MAX_BATCH_BYTES ? bytes : SqsSink.MAX_BATCH_BYTES;
    }

    private static final String CUT = "... (cut to fit the dead-letter queue's largest message)";

    /**
     * {@code reason} made {@code over} UTF-8 bytes shorter, saying so; never empty (SQS refuses an empty attribute). A
     * parked group's words ("group G parked at H: ") are kept whole, with a shorter note, when they fit: a release
     * matches its dead letters by them, and cut inside them, the group's head was sent back instead of dropped, or
     * every release stopped at it ("not parked with it").
     */
    static String cut(String reason, int over) {
        long room = (long) reason.getBytes(StandardCharsets.UTF_8).length - over;
        long keep = room - CUT.length();
        String note = CUT;
        int parkWords = reason.substring(0, parkWords(reason)).getBytes(StandardCharsets.UTF_8).length;
        if (keep < parkWords && parkWords + SHORT_CUT.length() <= room) {
            keep = room - SHORT_CUT.length();
            note = SHORT_CUT;
        }
        var sb = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < reason.length(); ) {
            int c = reason.codePointAt(i);
            int size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
            if (bytes + size > keep) {
                break;
            }
            sb.appendCodePoint(c);
            bytes += size;
            i += Character.charCount(c);
        }
        return sb.isEmpty() ? CUT.substring(4) : sb.append(note).toString();
    }

    private static final String SHORT_CUT = "...";

    /** How many characters of {@code reason} are a parked group's words ("group G parked at H: "); 0 when none. */
    static int parkWords(String reason) {
        int parked = reason.startsWith("group ") ? reason.indexOf(" parked ") : -1;
        int colon = parked < 0 ? -1 : reason.indexOf(": ", parked);
        return colon < 0 ? 0 : colon + 2;
    }

    /**
     * What a format without an id in the body keys the message's event by: its producer's deduplication id
     * (not SQS's hash of the body), else its message id — kept on the dead letter, so that a redrive moves it
     * back as the same event ({@link MessageAttributes#ORIGIN}).
     */
    static String identity(Delivery d) {
        var dedup = d.deduplicationId();
        return dedup != null && !dedup.isEmpty() && !Md5.isSha256Of(dedup, d.body()) ? dedup : d.id();
    }

    /** The reason as SQS accepts it in an attribute: XML characters only, at most 4,000 of them. */
    static String sanitize(String reason) {
        var sb = new StringBuilder(Math.min(reason.length(), MAX_REASON_CHARS));
        for (int i = 0; i < reason.length() && sb.length() < MAX_REASON_CHARS; i++) {
            char c = reason.charAt(i);
            boolean ok = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD);
            if (Character.isHighSurrogate(c) && i + 1 < reason.length() && Character.isLowSurrogate(reason.charAt(i + 1))) {
                sb.append(c).append(reason.charAt(++i));
            } else {
                sb.append(ok ? c : '?');
            }
        }
        return sb.toString();
    }
}
