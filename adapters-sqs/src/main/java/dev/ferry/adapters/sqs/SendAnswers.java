package dev.ferry.adapters.sqs;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * What a {@code SendMessageBatch} answer confirms. An entry counts as sent only when the answer names
 * it among the successful ones with the MD5 of the body (and attributes) that was sent: an entry the
 * answer leaves out (a proxy answering 200 with nothing) or one stored altered on the way is a failure
 * that may pass, never a copy taken for granted — a dead letter's original is deleted, and a sink's
 * event is done, on the strength of it. (The clients leave the SDK's own MD5 checks off.)
 */
final class SendAnswers {

    /** The error code of an entry SQS stored otherwise than it was sent. */
    static final String ALTERED = "MD5Mismatch";

    private SendAnswers() {
    }

    /** The answer's failed entries, plus one for each entry it did not confirm. */
    static List<BatchResultErrorEntry> unconfirmed(List<SendMessageBatchRequestEntry> sent, SendMessageBatchResponse answer) {
        var failed = new ArrayList<>(answer.failed());
        var answered = new HashSet<String>();
        failed.forEach(f -> answered.add(f.id()));
        for (var ok : answer.successful()) {
            var entry = entry(sent, ok.id());
            if (entry == null || !answered.add(ok.id())) {
                continue;
            }
            String problem = altered(entry.messageBody(), entry.hasMessageAttributes() ? entry.messageAttributes() : Map.of(),
                    ok.md5OfMessageBody(), ok.md5OfMessageAttributes());
            if (problem != null) {
                failed.add(error(ok.id(), ALTERED, problem));
            }
        }
        for (var entry : sent) {
            if (!answered.contains(entry.id())) {
                failed.add(error(entry.id(), "NotConfirmed", "SQS's answer did not name this entry: it may or may "
                        + "not have been stored"));
            }
        }
        return failed;
    }

    /**
     * What SQS stored otherwise than {@code body} and {@code attributes} were sent, by the hashes of its answer, or
     * null: a message damaged on the way (the clients leave the SDK's own check off).
     */
    static String altered(String body, Map<String, MessageAttributeValue> attributes, String md5OfBody, String md5OfAttributes) {
        if (md5OfBody != null && !md5OfBody.equalsIgnoreCase(Md5.ofBody(body))) {
            return "the body SQS stored hashes to " + md5OfBody + ", not to the body sent (damaged on the way)";
        }
        if (md5OfAttributes != null && !attributes.isEmpty() && !md5OfAttributes.equalsIgnoreCase(Md5.ofAttributes(attributes))) {
            return "the attributes SQS stored hash to " + md5OfAttributes + ", not to those sent (damaged on the way)";
        }
        return null;
    }

    private static SendMessageBatchRequestEntry entry(List<SendMessageBatchRequestEntry> sent, String id) {
        for (var e : sent) {
            if (e.id().equals(id)) {
                return e;
            }
        }
        return null;
    }

    /**
     * A delete's or a visibility change's answer: its failed entries, plus one for each of the
     * {@code count} entries sent (ids {@code 0..count-1}) it named neither way. Taken as done, such an
     * entry deletes nothing (a dead letter's original comes back, its counts forgotten, and is copied
     * again) or extends nothing (its lease runs out while the listener counts on it).
     */
    static List<BatchResultErrorEntry> unnamed(int count, List<BatchResultErrorEntry> failed, List<String> succeeded) {
        var named = new HashSet<String>(succeeded);
        failed.forEach(f -> named.add(f.id()));
        var out = new ArrayList<>(failed);
        for (int i = 0; i < count; i++) {
            if (!named.contains(Integer.toString(i))) {
                out.add(error(Integer.toString(i), "NotConfirmed", "SQS's answer did not name this entry: it may or may "
                        + "not have been carried out"));
            }
        }
        return out;
    }

    private static BatchResultErrorEntry error(String id, String code, String message) {
        return BatchResultErrorEntry.builder().id(id).code(code).message(message).senderFault(false).build();
    }
}
