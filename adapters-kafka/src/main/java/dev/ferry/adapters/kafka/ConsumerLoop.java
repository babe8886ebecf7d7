package dev.ferry.adapters.kafka;

import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.Thrown;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread that owns a source's {@code KafkaConsumer} (it is not thread-safe): it fetches into
 * the partition buffers, pauses partitions whose buffers are full, commits finished offsets, and
 * replaces a consumer that dies (after a pause of {@code restartBackoff}, doubling to its max). A
 * partition whose next record cannot be read stops on its own ({@link UnreadablePartitions}); one the group
 * has no offset for, or whose offset is outside its log, is moved as {@code earliest} would, saying what
 * was lost ({@link OffsetResets}).
 */
final class ConsumerLoop {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);
    private static final Duration POLL = Duration.ofMillis(100);
    /** A paused partition is looked at again this soon while records are being settled: its buffer empties. */
    private static final Duration PAUSED_POLL = Duration.ofMillis(2);
    /** ... and this soon while nothing is settled (a slow or stuck handler): no buffer can have emptied. */
    private static final Duration PAUSED_QUIET_POLL = Duration.ofMillis(20);

    /** What the loop needs from its source's settings. */
    record Settings(String name, List<String> topics, Map<String, Object> consumerConfig, Duration commitInterval,
                    Duration restartBackoff, Duration maxRestartBackoff) { }

    private final Settings settings;
    private final String name;
    private final PartitionBuffers buffers;
    private final UnreadablePartitions unreadable;
    private final OffsetResets resets;
    private final CountDownLatch closing = new CountDownLatch(1);
    private final AtomicBoolean killOnce = new AtomicBoolean();
    /** The thread's current consumer, for {@link #close()}'s wakeup; null while there is none. */
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile Thread thread;
    private volatile boolean closed;
    /** Why the source cannot hand out records now (its consumer died and is being replaced); null when it can. */
    private volatile String problem;
    /** What {@link #problem} says once the thread ended; made beforehand, so saying it cannot fail (no memory). */
    private final String threadEnded;
    /** Records behind the end of the assigned partitions, as of the last poll; -1 unknown. */
    private volatile long lag = -1;
    private final ConsumerLag consumerLag = new ConsumerLag();
    private volatile Throwable lastDeath;
    /** {@link PartitionBuffers#settleCalls} at the last paused poll; the consumer thread's only. */
    private long settledBefore;
    private long strayWarned = System.nanoTime() - 61_000_000_000L;

    ConsumerLoop(Settings settings, PartitionBuffers buffers) {
        this.settings = settings;
        this.name = settings.name();
        this.threadEnded = "Kafka source '" + name + "': its consumer thread ended";
        this.buffers = buffers;
        this.unreadable = new UnreadablePartitions(name);
        this.commits = new CommitHealth(name);
        this.resets = new OffsetResets(name, settings.consumerConfig(), buffers);
    }

    /** Creates the first consumer here (a bad setting fails the caller) and starts the thread. */
    void start() {
        var first = newConsumer();
        consumer = first;
        thread = Thread.ofPlatform().name("ferry-kafka-" + name).start(() -> run(first));
    }

    boolean started() { return thread != null; }

    /** Why the consumer is down (died, being replaced), or null. */
    String down() { return problem; }

    Throwable lastDeath() { return lastDeath; }

    /** What keeps the loop from fetching, or a partition from being read, in words; null when nothing does. */
    String problem() {
        var t = thread;
        if (t == null) {
            return "Kafka source '" + name + "' is not started";
        }
        var p = problem;
        if (p != null) {
            return p;
        }
        var unread = t.isAlive() ? unreadable.problem() : threadEnded;
        return unread != null ? unread : commits.problem() != null ? commits.problem() : consumerLag.unreached(name);
    }

    long lag() { return lag; }

    /** Test hook: the loop throws once at its next turn, as if consuming had failed. */
    void killOnce() { killOnce.set(true); }

    /** Stops the loop: the consumer commits what is finished and leaves the group; waits up to 15 s. */
    void close() {
        closed = true;
        closing.countDown();
        var c = consumer;
        if (c != null) {
            try {
                c.wakeup();
            } catch (RuntimeException e) {
                // already closed by the consumer thread
            }
        }
        var t = thread;
        if (t != null) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private KafkaConsumer<byte[], byte[]> newConsumer() {
        return new KafkaConsumer<>(resets.consumerConfig(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Consumes with {@code first}; when a consumer dies, closes it, drops what is in hand and starts
     * a new one after a pause, until closed.
     */
    private void run(KafkaConsumer<byte[], byte[]> first) {
        var c = first;
        long backoff = Durations.nanos(settings.restartBackoff()); // saturated: "for ever" overflowed
        long maxBackoff = Durations.nanos(settings.maxRestartBackoff());
        try {
            while (true) {
                long started = System.nanoTime();
                Throwable death = null;
                try {
                    if ((death = consume(c)) != null && !closed) {
                        lastDeath = death;
                        lag = -1; // unknown until a new consumer polls: kept, the last figure stood through any outage
                        problem = "Kafka source '" + name + "': its consumer died (" + Thrown.describe(death) + "); replacing";
                    }
                } finally {
                    consumer = null;
                    // nothing of Ferry's interrupts this thread (close() stops it by its latch and a wakeup): an interrupt
                    // is a plugin's (an interceptor, an agent), and Kafka's InterruptException sets it again as it is
                    // thrown. Left set, the close skipped its commit and the wait below ended the thread for good
                    Thread.interrupted();
                    ConsumerStop.close(c, name);
                }
                if (closed || death == null) {
                    return;
                }
                buffers.dropAll();
                buffers.positions.forgetAll();
                unreadable.forgetAll();
                commits.worked(); // what it left to commit was dropped with it: its failures are not the next one's
                if (System.nanoTime() - started >= maxBackoff) {
                    backoff = Durations.nanos(settings.restartBackoff()); // it ran well for a while: pauses start over
                }
                LOG.error("Kafka source '" + name + "': its consumer died; a new one starts in " + Durations.text(Duration.ofNanos(backoff)), Thrown.loggable(death));
                c = null;
                while (c == null) {
                    problem = "Kafka source '" + name + "': its consumer died (" + Thrown.describe(death) // whatever its text
                            + "); a new one starts in " + Duration.ofNanos(backoff); // does (thrown, it ended the thread)
                    if (closedWithin(backoff)) {
                        return;
                    }
                    backoff = backoff > maxBackoff / 2 ? maxBackoff : backoff * 2;
                    try {
                        c = newConsumer();
                    } catch (Throwable e) { // an Error too: the source goes on trying
                        death = e;
                        lastDeath = e;
                        LOG.error("Kafka source '" + name + "': cannot create a new consumer", Thrown.loggable(e));
                    }
                }
                consumer = c;
                LOG.info("Kafka source '{}': a new consumer joins the group", name);
            }
        } finally {
            // only a throw ends the thread unclosed: one in the restart's bookkeeping (a log handler's Error) left the
            // death's "a new one starts in 1 s" said for good, to /health and to every poll, no thread left to start one
            if (!closed) {
                problem = threadEnded;
            }
        }
    }

    /**
     * Waits up to {@code nanos} for {@link #close()}; whether it came. An interrupt is a plugin's (close() sends none):
     * the wait goes on through it, as a source whose thread ended would never consume again.
     */
    private boolean closedWithin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (true) {
            try {
                return closing.await(end - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                // the throw cleared it: waited through
            }
        }
    }

    /**
     * Consumes with {@code c} until closed (returns null) or until it fails (returns the failure).
     * Does not close {@code c}.
     */
    private Throwable consume(KafkaConsumer<byte[], byte[]> c) {
        try {
            c.subscribe(settings.topics(), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
                    Revocations.awaitDeadLetters(buffers, revoked, Revocations.DEAD_LETTERS_WAITED.toNanos());
                    commit(c, revoked);
                    buffers.drop(revoked);
                    buffers.positions.forget(revoked);
                    unreadable.forget(revoked);
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> lost) {
                    buffers.drop(lost);
                    buffers.positions.forget(lost);
                    unreadable.forget(lost);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
                    buffers.assigned(assigned);
                    buffers.positions.forget(assigned);
                    unreadable.forget(assigned);  // assigned afresh, not paused: a stop of an earlier ownership is over
                }
            });
            long lastCommit = System.nanoTime();
            while (!closed) {
                if (killOnce.compareAndSet(true, false)) {
                    throw new IllegalStateException("consumer loop killed by the test hook");
                }
                boolean paused = pauseOrResume(c);
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = c.poll(pollWait(paused, lastCommit));
                } catch (org.apache.kafka.common.errors.InterruptException e) {
                    clearStrayInterrupt(); // left in a commit's callback (onCommit), met by the poll after
                    continue;
                } catch (KafkaException e) {
                    if (!resets.reset(c, e) && !unreadable.stop(c, e)) {
                        throw e;
                    }
                    continue;       // a position moved, or the partition with the unreadable record stopped: the rest go on
                }
                clearStrayInterrupt();
                if (problem != null) {
                    problem = null;             // a consumer that polls again: the source is back
                    LOG.info("Kafka source '{}' consumes again", name);
                }
                var rewind = buffers.take(records);
                if (!rewind.isEmpty()) {
                    rewind.forEach((tp, offset) -> c.seek(tp, offset.longValue()));
                    pauseOrResume(c);
                }
                buffers.positions.polled(records, rewind);      // a poll with no record may still have moved past a marker
                lag = consumerLag.of(c, tp -> buffers.buffered(tp.topic(), tp.partition()).unfinished());
                if (System.nanoTime() - lastCommit >= Durations.nanos(settings.commitInterval())) {
                    commitAsync(c);
                    clearStrayInterrupt();
                    lastCommit = System.nanoTime();
                }
            }
            // through a rebalance too
            ConsumerStop.commit(c, name, () -> !buffers.toCommit(null, false).isEmpty(), () -> commit(c, null));
            return null;
        } catch (WakeupException e) {
            if (closed) {
                ConsumerStop.commit(c, name, () -> !buffers.toCommit(null, false).isEmpty(), () -> commit(c, null));
                return null;
            }
            return e;
        } catch (Throwable e) { // an Error too (a plugin's, an interceptor's): the consumer is replaced, not lost
            return e;
        }
    }

    /**
     * Clears an interrupt a plugin left (an interceptor's): close() stops this loop by wakeup, never by interrupt. Left
     * set, the next call threw and the consumer was replaced (a rebalance, records read again). Said once a minute.
     */
    private void clearStrayInterrupt() {
        if (Thread.interrupted() && System.nanoTime() - strayWarned > 60_000_000_000L) {
            strayWarned = System.nanoTime();
            LOG.warn("Kafka source '{}': its consumer thread was interrupted, not by Ferry; it goes on", name);
        }
    }

    /** Pauses partitions with full buffers and resumes paused ones with room again; whether any stays paused. */
    private boolean pauseOrResume(KafkaConsumer<byte[], byte[]> c) {
        var pausing = buffers.pausing(unreadable.notStopped(c.paused())); // a stopped partition is never resumed
        if (!pausing.pause().isEmpty()) {
            c.pause(pausing.pause());
        }
        if (!pausing.resume().isEmpty()) {
            c.resume(pausing.resume());
        }
        return pausing.anyPaused();
    }

    /**
     * How long the consumer's next poll may wait: briefly while a partition is paused and records are
     * being settled (its buffer empties meanwhile; a little longer while nothing is), until the next commit is due while records are in hand (so finished work
     * is committed on time even when nothing more is fetched), otherwise 100 ms.
     */
    private Duration pollWait(boolean paused, long lastCommit) {
        if (paused) {
            long settled = buffers.settleCalls();
            boolean flowing = settled != settledBefore;
            settledBefore = settled;
            return flowing ? PAUSED_POLL : PAUSED_QUIET_POLL;
        }
        if (!buffers.inHand()) {
            return POLL;
        }
        long due = Durations.nanos(settings.commitInterval()) - (System.nanoTime() - lastCommit);
        return Duration.ofNanos(Math.clamp(due, TimeUnit.MILLISECONDS.toNanos(1), POLL.toNanos()));
    }

    /**
     * Commits finished work without waiting for the broker (the consumer goes on fetching); the
     * answer comes in a later poll, on this thread. A failed commit is sent again at the next turn.
     */
    private void commitAsync(KafkaConsumer<byte[], byte[]> c) {
        var commit = buffers.toCommit(null, true);
        if (commit.isEmpty()) { // failing, nothing finished left to commit (the partitions gone, say): not failing now
            if (commits.failing() && buffers.toCommit(null, false).isEmpty()) {
                commits.worked();
            }
            return;
        }
        c.commitAsync(commit.offsets(), (offsets, e) -> {
            if (e == null) {
                buffers.committed(commit);
                commits.worked();
                if (failedCommits > 0) {
                    LOG.info("Kafka source '{}': commits work again, after {} failed", name, failedCommits);
                    failedCommits = 0;
                }
            } else {
                buffers.commitFailed(commit);
                commits.failed(e);
                // sent again at every turn (every 25 ms): a coordinator away for a minute would write thousands of lines
                long now = System.nanoTime();
                if (failedCommits++ == 0 || now - lastCommitWarnNanos >= COMMIT_WARN_EVERY_NANOS) {
                    lastCommitWarnNanos = now;
                    LOG.warn("Kafka source '{}': commit failed ({}); it is sent again ({} failed in a row; said at most "
                            + "every 10 s)", name, Thrown.describe(e), failedCommits);
                }
            }
        });
    }

    /** Commits that failed in a row, and when that was last said; the consumer thread's own (callbacks run on it). */
    private long failedCommits;
    private long lastCommitWarnNanos;
    private final CommitHealth commits;
    private static final long COMMIT_WARN_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    /** Commits finished work of {@code only} (all assigned when null), waiting for the broker; its failure, or null. */
    private RuntimeException commit(KafkaConsumer<byte[], byte[]> c, Collection<TopicPartition> only) {
        var commit = buffers.toCommit(only, false);
        if (commit.isEmpty()) {
            return null;
        }
        try {
            try {
                c.commitSync(commit.offsets(), Duration.ofSeconds(10));
            } catch (WakeupException e) {
                c.commitSync(commit.offsets(), Duration.ofSeconds(10));     // close()'s wakeup came first: commit still
            }
        } catch (RuntimeException e) {
            commits.failed(e);
            LOG.warn("Kafka source '{}': commit failed ({}); finished records may be read again "
                    + "and dropped by the ledger", name, e.getMessage());
            return e;
        }
        buffers.committed(commit);
        commits.worked();
        return null;
    }
}
