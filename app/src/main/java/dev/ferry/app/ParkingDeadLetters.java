package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.OnPoison;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * Dead-letter queues that hold parked groups: a plain redrive must not move them. A parked group's
 * messages wait in its source's DLQ in order, the first of them its head; moved back by a redrive,
 * they come to a group the ledger still holds parked and are parked again behind it — in the DLQ's
 * new order, after whatever the redrive did not move, with the head no longer named as such (a
 * partial redrive put a group out of order, and {@code --skip-head} then missed the poison message).
 * {@code ferry groups release} is what puts them back.
 */
final class ParkingDeadLetters {

    private ParkingDeadLetters() {
    }

    /** The {@code on-poison: park} SQS source whose queue has {@code dlqUrl} as its dead-letter queue; null when none. */
    static String parkingSource(FerryConfig config, SqsQueues queues, String dlqUrl) {
        var parking = config.sources().values().stream()
                .filter(s -> s.onPoison() == OnPoison.PARK && s.plan() instanceof SqsSourceConfig).toList();
        if (parking.isEmpty()) {
            return null;
        }
        var feeding = queues.deadLetterSourceQueues(dlqUrl).stream().map(ParkingDeadLetters::accountAndName).toList();
        for (var source : parking) {
            String url;
            try {
                url = queues.url(((SqsSourceConfig) source.plan()).queue());
            } catch (RuntimeException e) {
                if (gone(e.getCause())) {
                    continue; // a source whose queue is gone parks nothing there now
                }
                throw e; // throttled, denied, unreachable: not known, so not let through (--force is)
            }
            if (feeding.contains(accountAndName(url))) {
                return source.name();
            }
        }
        return null;
    }

    /**
     * Of a dead letter's source queue (its name; null when it names none) and its group, whether {@code ledger} holds the
     * group parked now on an {@code on-poison: park} SQS source reading that queue (on any of them, for null): a redrive
     * leaves only those letters in place. Told by the letter's reason alone, one whose group was no longer parked (it
     * reached the DLQ after a release stopped waiting for it, a release gave it up as missing, the park was lost) stayed
     * through every redrive while a release refused it ("not parked"), until the DLQ's retention deleted it. What this
     * configuration cannot see is said parked, left as before: a ledger keeping no parked groups, a queue none of its
     * parking sources reads (another configuration's, sharing the DLQ).
     */
    static BiPredicate<String, String> parkedNow(FerryConfig config, Object ledger) {
        if (!(ledger instanceof GroupParking parking)) {
            return (queue, group) -> true;
        }
        var readers = new HashMap<String, List<String>>(); // a queue's name -> the parking sources reading it
        for (var source : config.sources().values()) {
            if (source.onPoison() == OnPoison.PARK && source.plan() instanceof SqsSourceConfig sqs) {
                readers.computeIfAbsent(queueName(sqs.queue()), q -> new ArrayList<>()).add(source.name());
            }
        }
        var all = readers.values().stream().flatMap(List::stream).toList();
        return (queue, group) -> {
            var sources = queue == null ? all : readers.getOrDefault(queue, List.of());
            return sources.isEmpty() || sources.stream().anyMatch(source -> parking.parkedGroup(source, group).isPresent());
        };
    }

    /** A queue's name, as its dead letters name it, from the name, URL or ARN a configuration gives. */
    static String queueName(String queue) {
        return queue.substring(Math.max(queue.lastIndexOf('/'), queue.lastIndexOf(':')) + 1);
    }

    /** Whether SQS said the queue does not exist, by type or by either of its codes for it. */
    private static boolean gone(Throwable e) {
        return e instanceof software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException
                || e instanceof software.amazon.awssdk.services.sqs.model.SqsException sqs && sqs.awsErrorDetails() != null
                && java.util.Set.of("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
                .contains(sqs.awsErrorDetails().errorCode());
    }

    /** A queue URL's last two parts, account and name: the same queue under another host (an endpoint of a VPC, a legacy URL). */
    /**
     * Whether two queue URLs name one queue: the same account and name, whatever the host (a legacy endpoint, a VPC
     * endpoint, localhost or 127.0.0.1) — compared as strings, a DLQ was redriven into itself, every dead letter's
     * reason stripped.
     */
    static boolean sameQueue(String a, String b) {
        return a.equals(b) || accountAndName(a).equals(accountAndName(b));
    }

    static String accountAndName(String url) {
        String path = java.net.URI.create(url).getPath();
        int name = path.lastIndexOf('/');
        int account = name > 0 ? path.lastIndexOf('/', name - 1) : -1;
        return account >= 0 ? path.substring(account + 1) : path;
    }

    /**
     * Why a redrive of {@code dlq} is refused: it holds the parked groups of {@code source}. It named --force for another
     * queue's letters there, and forced, a review found them moved into this source's queue: --force moves the other
     * messages, --with-other-queues alone the letters of the other queues sharing the DLQ. It offered --force for "one
     * SQS moved itself" beside the parked groups' letters that stay: one SQS moved from the source itself, of a parked
     * group, has no reason of Ferry's and is moved — parked again behind the head, after what came later (a release stops
     * at one, {@code SqsMovedLetters}).
     */
    static String refusal(String dlq, String source) {
        return dlq + " holds the parked groups of source '" + source + "' (on-poison: park): a redrive would put them "
                + "back out of order and lose which message is each group's head. Release them with 'ferry groups release "
                + "GROUP --source " + source + "' (see 'ferry groups list'): parked groups go back only that way. To move "
                + "the other messages there all the same (one SQS moved itself), redrive with --force (force=true), which "
                + "leaves the dead letters of groups still parked where they are (but not one SQS moved there itself of "
                + "such a group: forced, it goes back behind the group's head, after those that came later — a release "
                + "stops at such a letter and says what it may be), and those of the other queues sharing the DLQ "
                + "unless --with-other-queues (others=true) moves them too (not with --native: SQS's move task moves every "
                + "message)";
    }
}
