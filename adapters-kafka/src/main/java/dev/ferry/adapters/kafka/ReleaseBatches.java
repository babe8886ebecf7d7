package dev.ferry.adapters.kafka;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Sends a key's parked records back for one move of {@link KafkaParkedGroupMover}, round after round: in order, one at
 * a time and acknowledged before the next, and in batches — after each, the key's cursor is committed past it, and only
 * then is the release told what went ({@link GroupParker.Progress#movedSoFar}): a crash in between counts a batch short,
 * never twice. Told only at the end of a move, the count stayed below what the key's producer had parked meanwhile, the
 * key was never {@link ParkedGroup#drained drained}, and its release never ended.
 */
final class ReleaseBatches {

    /** Records sent back between two commits (and two writes of the count to the store). */
    static final int BATCH = 100;

    /** The record a dead-letter copy without its value stands for, read from its own topic. */
    @FunctionalInterface
    interface Originals {
        ConsumerRecord<byte[], byte[]> original(String topic, ConsumerRecord<byte[], byte[]> copy);
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    /** For a record too large for its topic as {@link #producer} compresses it; null when it would compress alike. */
    private final DenserProducer denser;
    private final Duration sendWait;
    private final ParkedGroup parked;
    private final String token;
    private final boolean skipHead;
    private final GroupParker.Progress progress;
    private final Originals originals;
    /** What this move took out and sent back, committed (and told); and of the batch under way, not yet. */
    private long counted;
    private long redriven;
    /**
     * Taken out but not yet counted, per partition: offset, and whether it went back (not a skipped head). Counted once
     * the partition's cursor is committed past it — a head that failed again goes first, from above records not yet
     * sent: counted at once, a move stopped before those counted it, the next release sent it again and counted it
     * again, and a key moved more than parked looked drained with dead letters left.
     */
    private final Map<TopicPartition, TreeMap<Long, Boolean>> pending = new HashMap<>();
    /** Where each partition ended when the move's first round read it: what lies past it was dead-lettered since. */
    private Map<TopicPartition, Long> firstEnds;
    /** Sent back by this move, counted or not: how its marks are numbered. */
    private long numbered;
    private String problem;
    private boolean interrupted;
    /** From when (epoch ms, the clocks' skew allowed) a head found is of a park after the one the move was given. */
    private final long laterParks;
    /** What the release was last told (a running total): what this move counted since is still to be told. */
    private long told;
    /**
     * Said by the release when a batch was told: the key parked again behind a new head — one of the records this
     * move sent back, failing again. The move goes on all the same, its later rounds too: the rest, sent back under this
     * release's token, is parked behind the new head in order; stopped there, it stayed in the topic below the new
     * copies, and the next release sent it ahead of the records it had followed.
     */
    private GroupParker.ReleaseInterrupted parkedAgain;
    /** Why a batch that went back after {@link #parkedAgain} was not counted: the store failed. */
    private RuntimeException uncounted;
    /**
     * The events ({@link ParkedRecords#event}) of the heads this move drops: every dead letter of theirs is dropped with
     * them. Only the head's own was: a head sent back and failing again has an earlier dead letter too (parked behind
     * the earlier head, read again once the key's cursor was lost — a commit that failed, offsets expired), and that
     * one went back after the records behind the head, the dropped event run again, out of its order.
     */
    private final Set<String> droppedEvents = new HashSet<>();

    ReleaseBatches(KafkaConsumer<byte[], byte[]> consumer, KafkaProducer<byte[], byte[]> producer, Duration sendWait,
                   ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress, Originals originals,
                   DenserProducer denser) {
        this.consumer = consumer;
        this.producer = producer;
        this.denser = denser;
        this.sendWait = sendWait;
        this.parked = parked;
        this.token = token;
        this.skipHead = skipHead;
        this.progress = progress;
        this.originals = originals;
        this.laterParks = parked.lastParked().toEpochMilli() - KafkaParkedGroupMover.CLOCK_SKEW.toMillis();
    }

    /**
     * Sends a round's records back ({@code records}, in the order they go, read up to {@code ends}); on a failure, or at
     * a record this release sent back itself, stops there. After each batch (and at the end, even when nothing went),
     * commits per partition up to the first of its records not sent back, or the end read, so the next round or
     * release takes up exactly there. {@code stopped}: why none goes (every cursor stays at the key's first record).
     * False when the round stopped early ({@link #moved} says why).
     */
    boolean send(List<ParkedRecords.Parked> records, Map<TopicPartition, Long> ends, String stopped) {
        problem = stopped;
        if (firstEnds == null) {
            firstEnds = Map.copyOf(ends);
        }
        if (skipHead) { // known before the round goes: the event's earlier dead letters lie ahead of the head in the topic
            records.stream().filter(ParkedRecords.Parked::head).map(ParkedRecords.Parked::headEvent)
                    .filter(Objects::nonNull).forEach(droppedEvents::add);
        }
        // the release is not asked whether the key is still being released: parked again, that is told by what a round
        // finds. A record this release sent back, failing again, parks the rest behind it — what is found before its
        // copy came after it and goes behind it, in order (stopped on being told, it stayed below the copies parked
        // behind, and the next release sent it first); a record let through the drained key, failing, has its copy
        // found as the head of a later park, and what the key had parked before it went back already
        var left = new HashMap<TopicPartition, TreeSet<Long>>(); // where each partition's cursor must stay below
        records.forEach(p -> left.computeIfAbsent(p.partition(), k -> new TreeSet<>()).add(p.offset()));
        var reader = new DeadLetterReader(consumer, KafkaParkedGroupMover.READ_TIMEOUT); // a round's own: it pauses all but one
        int inBatch = 0;
        for (var p : records) {
            if (problem != null) {
                break;
            }
            if (inBatch == 0 && parkedAgain == null && progress.stopping()) {
                // whoever runs the release is going away (Ferry's close, Ctrl-C): ended after the batch committed and
                // told, the cursor at the first record not sent. Read on, the close took the store under a batch sent:
                // its count lost, the next release numbered its copies below those, and the key flowed ahead of them.
                // Not once parked again: the rest must follow behind the new head, as parkedAgain says
                problem = KafkaParkedGroupMover.STOPPING;
                break;
            }
            if (p.sentBackByThis()) {
                problem = parkedAgain(p);
                break;
            }
            if (p.asHead() && !p.head()
                    && (p.timestamp() >= laterParks || p.offset() >= firstEnds.getOrDefault(p.partition(), 0L))) {
                // a later park's head — dead-lettered after the park the move was given, or since the move began (the
                // dead letter's clock is the dead-lettering instance's): it and what follows are that park's. An
                // earlier head, found again (the key's cursor lost, or left below it by a stop), went back before: sent
                // again, the ledger drops it (one an earlier --skip-head dropped runs again: no store keeps dropped heads)
                problem = "the key was parked again behind a new head while this release ran (dead letter " + p.partition()
                        + "@" + p.offset() + "): release it again, from its new head";
                break;
            }
            boolean sent = !(skipHead && p.head());
            if (sent) {
                var record = readAgain(reader, p);
                if (record == null) {
                    break;
                }
                // another dead letter of a dropped head's event: taken out with it and counted, never sent
                sent = !droppedEvents.contains(ParkedRecords.event(record.headers()));
                if (sent) {
                    problem = sendBack(record, p);
                    if (problem != null) {
                        break;
                    }
                    numbered++;
                }
            }
            pending.computeIfAbsent(p.partition(), k -> new TreeMap<>()).put(p.offset(), sent);
            left.get(p.partition()).remove(p.offset());
            if (++inBatch == BATCH) {
                if (!commit(ends, left, false)) {
                    return false;
                }
                inBatch = 0;
            }
        }
        return commit(ends, left, true) && problem == null;
    }

    /** What this move took out and sent back, committed; and why it stopped early, null when it did not. */
    GroupParker.Moved moved() {
        if (parkedAgain != null) { // said once the move is over: what it found parked with its head went back, in order
            throw uncounted == null ? parkedAgain : new GroupParker.ReleaseInterrupted(parkedAgain.getMessage()
                    + " (what went back after it was not all counted: " + uncounted + ")");
        }
        return new GroupParker.Moved(counted, redriven, problem);
    }

    /** Whether the operator's stop (an interrupt) ended the move; set again by the mover once its clients are closed. */
    boolean interrupted() {
        return interrupted;
    }

    /**
     * Takes the operator's stop (an interrupt) off until the mover has closed its clients, and says it came: set, the
     * commit that keeps what went back would fail on it, and closed with it set, the clients threw.
     */
    void interruptTaken() {
        Thread.interrupted();
        interrupted = true;
    }

    private String interruptedAt(TopicPartition partition, long offset) {
        interruptTaken();
        return "the release was interrupted at " + partition + "@" + offset + "; nothing after it was moved, release it again";
    }

    /**
     * Commits the cursors, then tells the release what the batch took out. False when the commit failed: the batch is
     * then not counted — the next release reads it again, sends it again (the ledger drops it as a duplicate) and
     * counts it then; counted now too, it was counted twice, and a key moved more than parked is never drained.
     */
    private boolean commit(Map<TopicPartition, Long> ends, Map<TopicPartition, TreeSet<Long>> left, boolean roundsLast) {
        var positions = new HashMap<TopicPartition, OffsetAndMetadata>();
        ends.forEach((partition, end) -> {
            var notSent = left.get(partition);
            positions.put(partition, new OffsetAndMetadata(notSent == null || notSent.isEmpty() ? end
                    : Math.min(end, notSent.first())));
        });
        try {
            consumer.commitSync(positions, Duration.ofSeconds(30));
        } catch (InterruptException e) {
            interruptTaken();
            problem = problem != null ? problem : "the release was interrupted while it recorded how far it had moved; "
                    + "release it again";
            pending.clear();
            tell(true); // what earlier batches counted, if not yet told
            return false;
        } catch (RuntimeException e) {
            problem = problem != null ? problem : "records were produced back, but how far could not be recorded: "
                    + dev.ferry.domain.model.Thrown.describe(e)
                    + "; release it again";
            pending.clear();
            tell(true); // what earlier batches counted, if not yet told
            return false;
        }
        positions.forEach((partition, at) -> {
            var inPartition = pending.get(partition);
            if (inPartition != null) {
                var passed = inPartition.headMap(at.offset());
                counted += passed.size();
                redriven += passed.values().stream().filter(sent -> sent).count();
                passed.clear();
            }
        });
        return tell(roundsLast);
    }

    /**
     * Tells the release what this move counted, as a running total. Once the store failed to count, told again only at
     * the round's end (or when the move stops): each batch's count waited out the store's retries, seconds each, and a
     * round of 200,000 records took hours. False when the move is to stop.
     */
    private boolean tell(boolean roundsLast) {
        if (counted > told && (uncounted == null || roundsLast)) {
            told = counted; // told even when it fails: GroupRelease takes a count whose fate is unknown as recorded
            try {
                progress.movedSoFar(counted, redriven); // counted even once the key is parked again, and said so again
                uncounted = null;
            } catch (GroupParker.ReleaseInterrupted e) { // counted all the same
                parkedAgain = parkedAgain != null ? parkedAgain : e;
                uncounted = null;
            } catch (RuntimeException e) {
                if (parkedAgain != null && !(e.getCause() instanceof InterruptedException)) {
                    // the store failed to count a batch that went behind the new head: the move goes on — stopped, the
                    // rest stayed below that batch's copies, and the next release sent it first. The batch is taken as
                    // counted (GroupRelease): told again, a write that landed unconfirmed counted twice, the key drained
                    // early; counted short, the release forgives it once the last park settled
                    uncounted = e;
                    return true;
                }
                if (e instanceof FerryException f) {
                    throw f; // the key released by someone else, or the operator's stop while it was counted
                }
                throw new FerryException("the release of key " + parked.group() + " could not record what it moved: "
                        + dev.ferry.domain.model.Thrown.describe(e)
                        + "; what went back is committed past, release it again", e, true);
            }
        }
        return true;
    }

    /** {@code p}'s dead letter, read again just before it goes (the read kept only where it is); null when it could not
     *  be, {@link #problem} saying why. */
    private ConsumerRecord<byte[], byte[]> readAgain(DeadLetterReader reader, ParkedRecords.Parked p) {
        try {
            return reader.read(p.partition(), p.offset());
        } catch (InterruptException e) {
            // the operator's stop: what went back is still committed (its counts kept)
            problem = interruptedAt(p.partition(), p.offset());
        } catch (RuntimeException e) {
            problem = "the dead letter " + p.partition() + "@" + p.offset() + " could not be read again: "
                    + dev.ferry.domain.model.Thrown.message(e) + "; nothing after it was moved, release it again";
        }
        return null;
    }

    /** Sends {@code p} back, its dead letter {@code record} as just read again; null once acknowledged, else why not. */
    private String sendBack(ConsumerRecord<byte[], byte[]> record, ParkedRecords.Parked p) {
        var partition = p.partition();
        String topic = ParkedRecords.header(record.headers(), DeadLetterAttributes.SOURCE);
        ConsumerRecord<byte[], byte[]> original;
        try {
            original = ParkedRecords.header(record.headers(), KafkaSource.VALUE_OMITTED) == null ? record
                    : originals.original(topic, record);
        } catch (InterruptException e) { // the operator's stop, as at the read above
            return interruptedAt(partition, p.offset());
        } catch (RuntimeException e) {
            return "the record " + record.topic() + "-" + record.partition() + "@" + record.offset() + " was dead-lettered "
                    + "without its value (too large for the dead-letter topic) and could not be read from its topic: "
                    + dev.ferry.domain.model.Thrown.message(e) + "; nothing after it was moved";
        }
        if (original != record && ParkedRecords.sentBackBy(original.headers(), token)) {
            return parkedAgain(p); // its copy kept none of its headers: the record itself has the mark
        }
        var headers = new RecordHeaders();
        for (var h : original.headers()) {
            if (!h.key().startsWith(DeadLetterAttributes.PREFIX) && !h.key().equals(GroupParker.RELEASE_ATTRIBUTE)) {
                headers.add(h);
            }
        }
        headers.add(GroupParker.RELEASE_ATTRIBUTE, GroupParker.releaseValue(token,
                parked.redriven() + numbered + 1).getBytes(StandardCharsets.UTF_8));
        // what the source records it under: the same for every time this dead letter is moved back (a crash
        // before the cursor was committed sends it again, and the ledger then drops it as a duplicate)
        headers.remove(KafkaSource.ORIGIN);
        headers.add(KafkaSource.ORIGIN, KafkaDeliveries.origin(topic, record).getBytes(StandardCharsets.UTF_8));
        var back = new ProducerRecord<>(topic, null, record.key(), original.value(), headers);
        try {
            try {
                producer.send(back).get(sendWait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.RecordTooLargeException) || denser == null) {
                    throw e;
                }
                try { // refused before it was written (too large as lz4 made it): sent once more, compressed denser
                    denser.get().send(back).get(sendWait.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException | TimeoutException | InterruptedException | InterruptException again) {
                    throw again;
                } catch (Throwable noZstd) { // zstd not to be had here (its native library): the first refusal stands
                    throw e;
                }
            }
            return null;
        } catch (InterruptedException | InterruptException e) {
            // the operator's stop while the write was under way (it may land: not counted, the cursor stays at it, and
            // the next release sends it again for the ledger to drop); what went back before is committed
            return interruptedAt(partition, record.offset());
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            return "producing to " + topic + " failed: " + dev.ferry.domain.model.Thrown.describe(e)
                    + "; nothing after it was moved, release it again"; // a partitioner's throw: its text may throw
        }
    }

    /**
     * Why a release stops at a dead letter it sent back itself: the key was parked again behind a new head while it
     * ran, and that record's copy is followed by the key's next ones, on their way here. Sent on with this release's
     * token, now stale, it was parked behind again after them: the key turned round at the next release.
     */
    private static String parkedAgain(ParkedRecords.Parked p) {
        return "the key was parked again while this release ran (dead letter " + p.partition() + "@" + p.offset()
                + " was produced back by it and dead-lettered again): release it again, from its new head";
    }
}
