package dev.ferry.adapters.sqs;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * A redrive run's copies that came back into the dead-letter queue (their consumer still fails them), kept
 * out of sight until the run ends. Only each one's message id and newest receipt handle are kept: the whole
 * messages were kept before, and 10,000 copies of 256 KiB bodies (2.5 GiB) ended the app that runs the
 * console's redrives.
 */
final class SetAsideCopies {

    /** How long a copy that came back is kept out of sight while the run goes on (renewed if seen again). */
    static final int SECONDS = 15 * 60;
    /** Copies set aside remembered at most (their receipt handles), to be put back in sight at the end. */
    static final int MAX = 10_000;
    /**
     * Copies past {@link #MAX} remembered at most (their message ids), to count each once. Past this, a copy
     * is not counted at all: counted each time it came back (after the receive's minute), it was new every
     * time, and a run whose loop ends once receives set nothing new aside never ended with 110,000 copies
     * coming back. A million ids took over 100 MB; this is about a tenth of it.
     */
    static final int MAX_SEEN = 100_000;

    private final SqsClient client;
    private final String queueUrl;
    private final int max;
    private final int maxSeen;
    /** Message id -> the newest receipt handle of each copy set aside, in the order they came. */
    private final Map<String, String> handles = new LinkedHashMap<>();
    /** The message ids of copies counted but not set aside (past {@link #MAX}). */
    private final Set<String> seen = new HashSet<>();

    SetAsideCopies(SqsClient client, String queueUrl) {
        this(client, queueUrl, MAX, MAX_SEEN);
    }

    /** With bounds of its own (a test's, small). */
    SetAsideCopies(SqsClient client, String queueUrl, int max, int maxSeen) {
        this.client = client;
        this.queueUrl = queueUrl;
        this.max = max;
        this.maxSeen = maxSeen;
    }

    /**
     * Hides copies that came back until the run ends (those past {@link #MAX} only for the receive's
     * minute: they would not be put back in sight); how many of them are new to this run's count — only
     * those remembered from here on: one that cannot be is not new the next time either.
     */
    int add(List<Message> cameBack) {
        int added = 0;
        var hidden = new ArrayList<String>();
        for (var m : cameBack) {
            String id = m.messageId();
            if (handles.containsKey(id) || handles.size() < max) {
                if (handles.put(id, m.receiptHandle()) == null && !seen.contains(id)) { // its newest receipt handle
                    added++;
                }
                hidden.add(m.receiptHandle());
            } else if (!seen.contains(id) && seen.size() < maxSeen) {
                seen.add(id);
                added++;
            }
        }
        Batches.changeVisibility(client, queueUrl, hidden, h -> h, h -> SECONDS, 2, null);
        return added;
    }

    /** Puts every copy set aside back in sight: left to their visibility, they would be hidden from whoever looks next. */
    void putBack() {
        Batches.changeVisibility(client, queueUrl, new ArrayList<>(handles.values()), h -> h, h -> 0, 2, null);
    }

    /** The copies set aside now. */
    int size() {
        return handles.size();
    }

    /** What is kept of the copies, in characters: their ids and receipt handles, never their bodies. */
    long retainedChars() {
        long chars = 0;
        for (var e : handles.entrySet()) {
            chars += e.getKey().length() + e.getValue().length();
        }
        for (var id : seen) {
            chars += id.length();
        }
        return chars;
    }
}
