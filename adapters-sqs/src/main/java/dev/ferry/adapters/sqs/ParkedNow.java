package dev.ferry.adapters.sqs;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiPredicate;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * Which of a redrive's dead letters stay where they are: those parked with their group ({@link GroupParker#parkedWith}:
 * its head, or behind it) while the group is parked now, as the ledger says. Told by their reason alone, the letters of
 * a group no longer parked — one that reached the DLQ after a release had stopped waiting for it, one a release gave up
 * as missing, one whose park the ledger lost — stayed through every redrive, forced or not, while a release refused
 * them ("not parked"): nothing moved them, and the DLQ's retention deleted them.
 */
final class ParkedNow {

    /** Every group said parked now: a redrive with no ledger to ask leaves every parked letter, as it always did. */
    static final BiPredicate<String, String> ALWAYS = (sourceQueue, group) -> true;

    /** Groups found parked remembered at most (a source queue's name and a group each). */
    private static final int MAX_KNOWN = 100_000;
    /** Groups whose letters were left named in the report at most. */
    private static final int MAX_NAMED = 10;

    /** Of a letter's source queue (its name; null when the letter names none) and its group: whether it is parked now. */
    private final BiPredicate<String, String> parkedNow;
    /**
     * The groups found parked, by source queue and group, asked once a run: asked for each letter, a parked group of
     * ten thousand letters was ten thousand reads of the ledger. One released while the run goes on keeps its letters
     * until the next run, as before; none is moved that the ledger still held parked.
     */
    private final Set<List<String>> parked = new HashSet<>();
    /** The first groups whose letters were left, in the order met. */
    private final Set<String> named = new LinkedHashSet<>();

    ParkedNow(BiPredicate<String, String> parkedNow) {
        this.parkedNow = java.util.Objects.requireNonNull(parkedNow, "parkedNow");
    }

    /** The letters of {@code batch} to leave where they are. */
    List<Message> in(List<Message> batch) {
        // a group found not parked is asked again in the next batch, not remembered: parked again while the run goes
        // on, its new letters would have been moved, out of order and their reasons stripped
        var notParked = new HashSet<List<String>>();
        var left = new ArrayList<Message>();
        for (var m : batch) {
            String group = m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID);
            var attributes = MessageAttributes.expand(m.messageAttributes());
            var reason = attributes.get(DeadLetterAttributes.REASON);
            if (group == null || reason == null || !GroupParker.parkedWith(reason.stringValue(), group)) {
                continue;
            }
            var from = attributes.get(DeadLetterAttributes.SOURCE);
            var key = Arrays.asList(from == null ? null : from.stringValue(), group); // a null queue: not said
            if (!notParked.contains(key) && (parked.contains(key) || askedParked(key, notParked))) {
                left.add(m);
                if (named.size() < MAX_NAMED) {
                    named.add(group);
                }
            }
        }
        return left;
    }

    private boolean askedParked(List<String> key, Set<List<String>> notParked) {
        if (!parkedNow.test(key.get(0), key.get(1))) {
            notParked.add(key);
            return false;
        }
        if (parked.size() < MAX_KNOWN) {
            parked.add(key);
        }
        return true;
    }

    /** The groups whose letters were left, the first ten of them. */
    List<String> groups() {
        return List.copyOf(named);
    }
}
