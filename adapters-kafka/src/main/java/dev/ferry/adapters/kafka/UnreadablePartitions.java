package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Partitions stopped at a record their consumer cannot read: a batch whose checksum does not match (a damaged log
 * segment: the broker serves segments without checking them), or one that cannot be parsed. The client then throws
 * from every poll until the consumer seeks past the record. Replacing the consumer, as for other failures, never ends
 * it: each new one is assigned the partition and meets the record again, every other partition it holds stops with
 * it (the group rebalancing each time), on every instance the partition moves to. So only that partition stops,
 * paused where the record is: nothing after it is handed out (no key's order is broken) and its commit stays below
 * it. It is said at ERROR, and in the source's problem for as long as it stays stopped. A partition that goes
 * (revoked, lost) is forgotten: its next owner meets the record on its own. Written by the consumer thread, read by
 * any.
 */
final class UnreadablePartitions {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class); // where the source's errors are
    /**
     * How the client (4.3, its {@code CompletedFetch}) says it cannot read a partition's next record: the partition
     * follows, then {@link #SEEK_PAST}. No field of the exception names the partition, so its message is read.
     */
    private static final String CANNOT_READ = "Received exception when fetching the next record from ";
    private static final String SEEK_PAST = ". If needed, please seek past the record";
    /** How it says the broker found the damage itself (a batch header it cannot read): the partition ends it. */
    private static final String BROKER_FOUND = "Encountered corrupt message when fetching offset ";
    private static final String FOR_PARTITION = " for topic-partition ";
    /** How long finding where the partition stopped may take: the client knows it without asking the broker. */
    private static final Duration POSITION_WAIT = Duration.ofSeconds(5);

    private final String name;
    /** Each stopped partition, and what the source's problem says of it. */
    private final Map<TopicPartition, String> stopped = new ConcurrentHashMap<>();
    /** The partition last named that was not assigned any more (left to its next owner), as named; the consumer thread's. */
    private String letGo;
    /** The partition and offset whose read last ran out of memory (or stack), and how many times in a row. */
    private String outOfMemoryAt;
    private int outOfMemoryTimes;
    private static final int MEMORY_TRIES = 3;

    UnreadablePartitions(String name) {
        this.name = name;
    }

    /**
     * Stops the partition {@code e} says {@code consumer} cannot read on: pauses it at its position and says so.
     * False, with nothing done, when {@code e} says something else, or names one stopped already, or where the
     * partition stands cannot be found: the caller treats {@code e} as any other failure. True, with nothing done,
     * when it names a partition not assigned any more: it went between the poll's throw and here (under
     * {@code group.protocol: consumer} the assignment changes on the client's own thread), and its next owner meets
     * the record itself; replacing the consumer for it cost a rebalance. Once: named so again before it is assigned
     * here again, it is a partition not found rather than one gone (the client throws only for its own), and the
     * caller replaces the consumer rather than poll a failure for ever.
     * A wakeup while finding where it stands goes on (the source closes).
     */
    boolean stop(Consumer<?, ?> consumer, KafkaException e) {
        String named = named(e);
        if (named == null) {
            return false;
        }
        var found = partitionIn(named, consumer.assignment());
        if (found.isEmpty()) {
            boolean again = named.equals(letGo);
            letGo = again ? null : named;
            return !again;
        }
        if (stopped.containsKey(found.get())) {
            return false;   // stopped already, yet read again: its pause did not hold. Replaced, not said at every poll
        }
        var tp = found.get();
        long offset;
        try {
            offset = consumer.position(tp, POSITION_WAIT);
        } catch (WakeupException wakeup) {
            throw wakeup;
        } catch (RuntimeException unknown) {
            e.addSuppressed(unknown);
            return false;
        }
        var codec = errorIn(e);
        if (codec instanceof VirtualMachineError && !outOfMemoryAgain(tp + "@" + offset)) {
            // the client's codecs wrap whatever they throw, a moment's OutOfMemoryError too: stopped, the partition
            // waited for a restart (the log blaming the codec) though what failed had passed. The consumer is replaced
            // and reads again; the same record failing so three times in a row is stopped at (memory, not damage)
            return false;
        }
        consumer.pause(List.of(tp));
        String reason = e.getCause() == null ? e.getMessage() : e.getCause().toString();
        if (codec instanceof VirtualMachineError) {
            stopped.put(tp, "Kafka source '" + name + "': partition " + tp + " is stopped at offset " + offset
                    + ": reading its records runs out of memory or stack (" + codec + "); its later records wait");
            LOG.error("Kafka source '" + name + "': partition " + tp + " is stopped at offset " + offset + ": reading the "
                    + "records there failed " + MEMORY_TRIES + " times in a row (" + codec + "). The records are whole: "
                    + "give the JVM more heap, or lower max.partition.fetch.bytes, and restart", e);
            return true;
        }
        if (codec != null) {
            // not damage: the client's zstd codec could not load its native code (unpacked into java.io.tmpdir), and
            // wraps what it threw as this partition's record being unreadable. The records are whole: skipping loses them
            stopped.put(tp, "Kafka source '" + name + "': partition " + tp + " is stopped at offset " + offset
                    + ": its records cannot be decompressed (" + codec + "); its later records wait");
            LOG.error("Kafka source '" + name + "': partition " + tp + " is stopped at offset " + offset + ": the "
                    + "consumer cannot decompress its records, the codec failing to load (" + codec + "). The records are "
                    + "whole: do not move the offset past them. Kafka's zstd and snappy codecs unpack their native code "
                    + "into java.io.tmpdir (" + System.getProperty("java.io.tmpdir") + "), which must be writable and not "
                    + "mounted noexec; mend that and restart. The source's other partitions go on", e);
            return true;
        }
        stopped.put(tp, "Kafka source '" + name + "': partition " + tp + " is stopped at offset " + offset
                + ", whose record cannot be read (" + reason + "); its later records wait");
        LOG.error("Kafka source '" + name + "': partition " + tp + " is stopped at offset " + offset + ": the consumer "
                + "cannot read the record there (" + reason + "). Nothing after it is handed out and its lag grows; the "
                + "source's other partitions go on. The broker's copy of the partition is damaged: mend it (another "
                + "replica's copy may be whole), then restart the instance that holds the partition; or, with the group "
                + "stopped, move its offset past the damaged batch's last offset (kafka-dump-log shows it), and every "
                + "record of that batch is lost. Until then each owner of the partition stops here", e);
        return true;
    }

    /** True when reading at {@code where} (partition@offset) ran out of memory the last {@link #MEMORY_TRIES} times. */
    private boolean outOfMemoryAgain(String where) {
        outOfMemoryTimes = where.equals(outOfMemoryAt) ? outOfMemoryTimes + 1 : 1;
        outOfMemoryAt = where;
        return outOfMemoryTimes >= MEMORY_TRIES;
    }

    /** The first {@link Error} among {@code e}'s causes (a codec's native code that did not load), or null. */
    private static Throwable errorIn(Throwable e) {
        for (var t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof Error) {
                return t;
            }
        }
        return null;
    }

    /**
     * The partition of {@code assigned} whose next record {@code e} says the consumer cannot read; empty when
     * {@code e} says something else or names a partition not among them.
     */
    static Optional<TopicPartition> partitionOf(KafkaException e, Collection<TopicPartition> assigned) {
        String named = named(e);
        return named == null ? Optional.empty() : partitionIn(named, assigned);
    }

    /** The partition {@code e} says the consumer cannot read the next record of, as the client names it; else null. */
    private static String named(KafkaException e) {
        String message = e.getMessage();
        if (message == null) {
            return null;
        } else if (message.startsWith(CANNOT_READ)) {
            int end = message.indexOf(SEEK_PAST, CANNOT_READ.length());
            return end < 0 ? null : message.substring(CANNOT_READ.length(), end);
        } else if (message.startsWith(BROKER_FOUND) && message.contains(FOR_PARTITION)) {
            // the broker met the damage reading up to the offset asked for (an owner that starts at the damaged batch)
            return message.substring(message.lastIndexOf(FOR_PARTITION) + FOR_PARTITION.length());
        }
        return null;
    }

    /** The partition of {@code assigned} the client names {@code named}, if any. */
    private static Optional<TopicPartition> partitionIn(String named, Collection<TopicPartition> assigned) {
        // held against the assignment rather than parsed: a topic's name may hold '-' and '.'
        return assigned.stream().filter(tp -> tp.toString().equals(named)).findFirst();
    }

    /** {@code paused} without the stopped partitions: those stay paused whatever their buffers hold. */
    Set<TopicPartition> notStopped(Set<TopicPartition> paused) {
        if (stopped.isEmpty()) {
            return paused;
        }
        var rest = new HashSet<>(paused);
        rest.removeAll(stopped.keySet());
        return rest;
    }

    /** Partitions that went, or came afresh (not paused): what was known of them is no longer so. */
    void forget(Collection<TopicPartition> partitions) {
        stopped.keySet().removeAll(partitions);
        if (letGo != null && partitions.stream().anyMatch(tp -> tp.toString().equals(letGo))) {
            letGo = null;
        }
    }

    /** The consumer goes (it died, or is replaced): its next one meets each record on its own. */
    void forgetAll() {
        stopped.clear();
        letGo = null;
    }

    /** Which partitions are stopped, where and why, in words; null when none is. */
    String problem() {
        String all = String.join("; ", stopped.values());
        return all.isEmpty() ? null : all;
    }
}
