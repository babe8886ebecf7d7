package dev.ferry.adapters.kafka;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A producer that is replaced when it proves broken: a send it neither acknowledged nor refused
 * within its own delivery timeout (its I/O thread ended by an {@code Error} from a plugin, which the
 * client does not catch, so no send of it completes again), or a failure it does not recover from
 * (fenced, a fatal authorization or sequence error). At most once every {@link #RENEW_AT_MOST_EVERY}:
 * an outage would otherwise make one per send. The old one is closed on a thread of its own, since
 * its close waits for an I/O thread that may be stuck. Thread-safe.
 */
final class RenewableProducer {

    /** The shortest time between two replacements. */
    static final Duration RENEW_AT_MOST_EVERY = Duration.ofSeconds(5);
    private static final Logger LOG = LoggerFactory.getLogger(RenewableProducer.class);

    private final String owner;
    private final Map<String, Object> config;
    private volatile KafkaProducer<byte[], byte[]> producer;
    /** Guards replacing the producer, {@link #renewedAt} and {@link #closed}. */
    private final Object renewal = new Object();
    private long renewedAt = System.nanoTime() - RENEW_AT_MOST_EVERY.toNanos();
    private boolean closed;
    /**
     * A replaced producer still closing: its close waits for its I/O thread, which a plugin that hangs
     * (rather than throws) holds for ever. No other is made meanwhile — each would be one more
     * producer, its buffer and its connections, leaked behind the same hang.
     */
    private volatile boolean oldOneClosing;

    /** {@code owner}: who it sends for, in log lines ("Kafka sink 'x'"). */
    RenewableProducer(String owner, Map<String, Object> config) {
        this.owner = owner;
        this.config = Map.copyOf(config);
        this.producer = newProducer();
    }

    private KafkaProducer<byte[], byte[]> newProducer() {
        return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** The producer to send with now; pass it to {@link #renew} when it fails. */
    KafkaProducer<byte[], byte[]> current() {
        var p = producer;
        var broken = deferred;
        if (broken != null && broken.producer() == p) {
            renew(p, broken.why()); // found broken too soon after the last replacement: replaced once that wait is over
        }
        return producer;
    }

    /** Whether {@code p} was found broken and waits to be replaced: whatever it fails with now is its own. */
    boolean awaitsRenewal(KafkaProducer<byte[], byte[]> p) {
        var broken = deferred;
        // not for long: one whose replacement never comes (the one before still closing) would make a record's own
        // fault (too large) an outage for the whole patience
        return broken != null && broken.producer() == p && System.nanoTime() - broken.since() < AWAITED.toNanos();
    }

    /** How long a producer found broken is taken to be at fault for whatever it fails with, while it waits. */
    static final Duration AWAITED = Duration.ofSeconds(30);

    /** A producer found broken while replacing it had to wait, since when (nanoTime), and why. */
    private record Broken(KafkaProducer<byte[], byte[]> producer, long since, String why) {
    }

    private Broken deferral(KafkaProducer<byte[], byte[]> broken, String why) {
        var known = deferred;
        return known != null && known.producer() == broken ? known : new Broken(broken, System.nanoTime(), why);
    }

    private volatile Broken deferred;

    /** Failures after which a producer fails every later send too: a new one may not. */
    static boolean fatalToProducer(Throwable failure) {
        return fatalCause(failure) != null;
    }

    /**
     * The failure, or what caused it, after which a producer fails every later send too; null when none. A producer in
     * that state throws from {@code send()} itself a plain {@code KafkaException} ("in an error state") caused by it —
     * whatever put it there: the client does so for causes of its own too (an {@code InitProducerId} answered
     * {@code UNKNOWN_SERVER_ERROR}, a request it could not make sense of), a plain {@code KafkaException} that names no
     * class, and a producer kept for those failed every send at once until a restart.
     */
    static Throwable fatalCause(Throwable failure) {
        for (int depth = 0; failure != null && depth < 8; failure = failure.getCause(), depth++) {
            if (failure instanceof ClusterAuthorizationException || failure instanceof AuthenticationException
                    || failure instanceof ProducerFencedException || failure instanceof OutOfOrderSequenceException
                    || failure instanceof UnsupportedVersionException || inErrorState(failure)) {
                return failure;
            }
        }
        return null;
    }

    /** What a producer in the client's error state throws from {@code send()}: made where it checks that state. */
    private static boolean inErrorState(Throwable failure) {
        if (failure instanceof org.apache.kafka.common.KafkaException || failure instanceof IllegalStateException) {
            var stack = failure.getStackTrace();
            if (stack.length > 0 && stack[0].getMethodName().equals("maybeFailWithError")
                    && stack[0].getClassName().endsWith(".TransactionManager")) {
                return true;
            }
            return String.valueOf(failure.getMessage()).contains("because we are in an error state");
        }
        return false;
    }

    /** Replaces {@code broken} unless it was replaced already, this is closed, or the last replacement was too recent. */
    void renew(KafkaProducer<byte[], byte[]> broken, String why) {
        synchronized (renewal) {
            if (closed || producer != broken) {
                return;
            }
            if (System.nanoTime() - renewedAt < RENEW_AT_MOST_EVERY.toNanos()) {
                // not forgotten: a producer in the client's fatal state fails each send at once, from send() itself, and
                // no later failure of its came to replace it (credentials put right, every publish was still refused)
                deferred = deferral(broken, why);
                return;
            }
            deferred = null;
            if (oldOneClosing) {
                deferred = deferral(broken, why);
                LOG.warn("{}: producer not replaced ({}): the one replaced before is still closing (a plugin holding "
                        + "its I/O thread?)", owner, why);
                renewedAt = System.nanoTime();
                return;
            }
            try {
                producer = newProducer();
            } catch (RuntimeException e) {
                LOG.warn("{}: could not make a new producer ({}); keeping the old one", owner, e.toString());
                return;
            } finally {
                renewedAt = System.nanoTime();
            }
        }
        LOG.warn("{}: producer replaced: {}", owner, why);
        oldOneClosing = true;
        Thread.ofVirtual().name("ferry-kafka-producer-close").start(() -> {
            try {
                broken.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("{}: closing the replaced producer failed", owner, e);
            } finally {
                oldOneClosing = false;
            }
        });
    }

    /** Closes the producer, waiting up to {@code timeout} for what it still holds; no replacement after this. */
    void close(Duration timeout) {
        synchronized (renewal) {
            closed = true;
        }
        producer.close(timeout);
    }
}
