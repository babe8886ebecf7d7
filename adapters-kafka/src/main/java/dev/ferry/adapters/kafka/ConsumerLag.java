package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Records behind the end of a consumer's assigned partitions, the source's lag. The client knows a partition's end
 * from its fetches, and a paused partition is not fetched: its lag stayed where it was at the pause while producers
 * went on writing — flat exactly while the source was behind (a key held, a sink's outage waited out). A paused
 * partition's end is asked of the cluster instead, at most every {@link #ASK_EVERY}, briefly; an ask that fails keeps
 * the ends known before. The consumer thread's only, as the consumer is.
 */
final class ConsumerLag {

    static final Duration ASK_EVERY = Duration.ofSeconds(5);
    /** How soon a partition paused anew has its end asked for (an ask that failed is not made again at each poll). */
    private static final Duration ASK_UNKNOWN_EVERY = Duration.ofSeconds(1);
    private static final Duration ASK_WITHIN = Duration.ofSeconds(1);
    private static final Duration POSITION_WITHIN = Duration.ofMillis(100);

    private long askedAt = System.nanoTime() - ASK_EVERY.toNanos();
    private Map<TopicPartition, Long> pausedEnds = Map.of();

    /**
     * The lag now: -1 while no broker answers (partitions assigned or not), 0 with nothing assigned, -1 when no
     * partition's is known. A partition's records fetched but not yet done ({@code unfinished}) count too: a sink down
     * for an hour behind a slow topic held its 200 records in hand, the fetch position at the end, and the gauge read 0
     * all the while — the records a crash would replay.
     */
    long of(KafkaConsumer<byte[], byte[]> c, java.util.function.ToIntFunction<TopicPartition> unfinished) {
        // looked at with partitions assigned too: the client keeps them while no broker answers and polls on without
        // throwing; a source cut off after its assignment stood ready, its lag the last fetch's figure all the outage
        noteReach(c);
        if (unreached("") != null) {
            // not "caught up", nor behind by the figure from before (an idle member's answers come every few seconds:
            // not at each look, so one look without an answer says nothing)
            return -1;
        }
        var assigned = c.assignment();
        if (assigned.isEmpty()) {
            return 0;
        }
        var paused = c.paused();
        askPausedEnds(c, paused);
        long sum = 0;
        boolean known = false;
        for (var partition : assigned) {
            long partitionLag = paused.contains(partition) ? pausedLag(c, partition) : -1;
            if (partitionLag < 0) {
                var fetched = c.currentLag(partition);
                partitionLag = fetched.isPresent() ? fetched.getAsLong() : -1;
            }
            if (partitionLag >= 0) {
                sum += partitionLag + unfinished.applyAsInt(partition);
                known = true;
            }
        }
        return known ? sum : -1;
    }

    /**
     * How long the consumer may have no answer from any broker before the source says so: a {@code bootstrap-servers}
     * unreachable (a wrong port, a missing firewall rule) stood ready for ever, its lag 0; a cluster gone after the
     * assignment, its lag the last fetch's. An empty assignment alone says nothing (a group with more members than
     * partitions); no answer does: an assigned member's fetches are answered within {@code fetch.max.wait.ms} even on a
     * quiet topic, a paused one's heartbeats and end-offset asks every few seconds.
     */
    static volatile Duration unreachedFor = Duration.ofSeconds(20);

    /** Since when (nanoTime) no broker answered; 0 while one did. */
    private volatile long unreachedSince;
    /** The consumer whose responses are counted, and its count of them ("response-total"); found once per consumer. */
    private KafkaConsumer<byte[], byte[]> counted;
    private org.apache.kafka.common.Metric responseTotal;
    /** The consumer's responses from brokers so far, when last read. */
    private double responses = -1;

    /**
     * Whether a broker answered since the last look: its responses counted (an idle member's heartbeats answer every
     * few seconds). Not its connections: one being opened counts, and behind a firewall that drops packets a connect
     * waits there ten seconds at a time, so the count stood at 1 with no broker reached.
     */
    private void noteReach(KafkaConsumer<byte[], byte[]> c) {
        boolean answered = true;
        try {
            if (c != counted) { // a consumer replaced counts from 0: below the last one's count, it seemed answered by none
                counted = c;
                responseTotal = null;
                responses = -1;
            }
            // looked up once, not at every poll (each walked all of a consumer's metrics, per partition too); again
            // while not there yet
            if (responseTotal == null) {
                for (var m : c.metrics().entrySet()) {
                    if ("response-total".equals(m.getKey().name()) && "consumer-metrics".equals(m.getKey().group())) {
                        responseTotal = m.getValue();
                        break;
                    }
                }
            }
            if (responseTotal != null && responseTotal.metricValue() instanceof Number n) {
                answered = n.doubleValue() > responses;
                responses = n.doubleValue();
            }
        } catch (RuntimeException e) { // metrics that cannot be read say nothing
        }
        if (answered) {
            unreachedSince = 0;
        } else if (unreachedSince == 0) {
            unreachedSince = System.nanoTime() | 1;
        }
    }

    /** In words, when no broker has answered for {@link #unreachedFor}, partitions assigned or not; else null. */
    String unreached(String name) {
        long since = unreachedSince;
        return since == 0 || System.nanoTime() - since < unreachedFor.toNanos() ? null : "Kafka source '" + name
                + "': no broker answered for " + unreachedFor.toSeconds() + " s or more, its partitions assigned or not "
                + "(a wrong address or port in its bootstrap-servers, a firewall, the cluster down)";
    }

    private void askPausedEnds(KafkaConsumer<byte[], byte[]> c, Set<TopicPartition> paused) {
        if (!paused.containsAll(pausedEnds.keySet())) { // resumed since: paused again, its old end would read as no lag
            var kept = new java.util.HashMap<>(pausedEnds);
            kept.keySet().retainAll(paused);
            pausedEnds = Map.copyOf(kept);
        }
        long now = System.nanoTime();
        long since = now - askedAt;
        boolean unknown = !pausedEnds.keySet().containsAll(paused) && !askFailed;
        if (paused.isEmpty() || since < TimeUnit.NANOSECONDS.convert(unknown ? ASK_UNKNOWN_EVERY : ASK_EVERY)) {
            return;
        }
        try {
            pausedEnds = Map.copyOf(c.endOffsets(paused, ASK_WITHIN));
            askFailed = false;
        } catch (Throwable e) {
            // the cluster slow or away (a wakeup from close, too: the loop sees it closed): the ends known before stand
            askFailed = true;
        } finally {
            // counted from the answer, and after one that failed not again for ASK_EVERY: counted from the ask, a second
            // past the 1 s it may wait, a partition whose leader was being elected was asked about at every poll — the
            // consumer thread spent its time here, the partitions still flowing polled once a second
            askedAt = System.nanoTime();
        }
    }

    /** Whether the last ask for the paused partitions' ends failed (timed out): then not asked again for a while. */
    private boolean askFailed;

    private long pausedLag(KafkaConsumer<byte[], byte[]> c, TopicPartition partition) {
        Long end = pausedEnds.get(partition);
        if (end == null) {
            return -1;
        }
        try {
            return Math.max(0, end - c.position(partition, POSITION_WITHIN));
        } catch (Throwable e) {
            return -1;
        }
    }
}
