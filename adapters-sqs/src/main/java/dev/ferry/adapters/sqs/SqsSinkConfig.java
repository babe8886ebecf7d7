package dev.ferry.adapters.sqs;

import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.Plan;
import dev.ferry.domain.spi.Settings;
import dev.ferry.domain.transport.Sink;
import java.time.Duration;
import java.util.Set;

/**
 * A {@code type: sqs} sink section.
 *
 * <pre>
 * type: sqs
 * queue: trades.fifo               # a name, URL or ARN
 * deduplication: event-key         # FIFO: event-key (default) or content (the queue's content-based dedup)
 * message-group: all               # FIFO: one group for every message, instead of each event's group key
 * delay: 0s                        # standard queues: deliver this much later (whole seconds, up to 15m)
 * outage-patience: 15m              # SQS unreachable, or refusing every message until a queue, a permission or a KMS
 *                                  # key is mended: events wait this long (Throttled) before attempts are spent
 * </pre>
 */
public record SqsSinkConfig(String name, String queue, SqsSink.Deduplication deduplication, String messageGroup,
                            Duration delay, Duration outagePatience) implements Plan<Sink> {

    /** A section without {@code outage-patience}: the default (kept for code written before the setting). */
    public SqsSinkConfig(String name, String queue, SqsSink.Deduplication deduplication, String messageGroup,
                         Duration delay) {
        this(name, queue, deduplication, messageGroup, delay, dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE);
    }

    public static SqsSinkConfig read(Settings s) {
        String queue = s.required("queue");
        boolean fifo = queue != null && queue.endsWith(".fifo");
        String dedup = s.oneOf("deduplication", "event-key", Set.of("event-key", "content"));
        String group = s.string("message-group", null);
        var delay = s.duration("delay", Duration.ZERO);
        var patience = s.duration("outage-patience", dev.ferry.domain.transport.Outage.DEFAULT_PATIENCE);
        if (!fifo && s.string("deduplication", null) != null) {
            s.problem("deduplication", "only FIFO queues (names ending in .fifo) deduplicate; '" + queue + "' is standard");
        }
        if (!fifo && group != null) {
            s.problem("message-group", "only FIFO queues (names ending in .fifo) have message groups; '" + queue
                    + "' is standard");
        }
        if (group != null && !group.matches("[\\p{Alnum}\\p{Punct}]{1,128}")) {
            s.problem("message-group", "must be 1-128 letters, digits or punctuation, was '" + group + "'");
        }
        if (fifo && !delay.isZero()) {
            s.problem("delay", "FIFO queues take no per-message delay (set the queue's DelaySeconds instead)");
        } else if (delay.toSeconds() > 900 || delay.getNano() != 0) {
            s.problem("delay", "must be whole seconds up to 15m, was " + delay);
        }
        return new SqsSinkConfig(s.name(), queue, "content".equals(dedup) ? SqsSink.Deduplication.CONTENT_BASED
                : SqsSink.Deduplication.EVENT_KEY, group, delay, patience);
    }

    /** A queue name ending in {@code .fifo}: every message needs a group. */
    public boolean fifo() {
        return queue != null && queue.endsWith(".fifo");
    }

    /**
     * The sink's wait for a publish's answer, its calls tried again within it: SQS unreachable is then an outage
     * waited out. None without patience: an interrupt then costs what the sink's own answer would.
     */
    @Override
    public Duration longestCall() {
        return outagePatience != null && outagePatience.isZero() ? Duration.ZERO : SqsTimeouts.SINK_PUBLISH;
    }

    @Override
    public Sink open(AdapterContext context) {
        var client = SqsModule.client(context);
        if (context.provision()) {
            SqsQueues.of(client).create(queueSpec());
        }
        var builder = SqsSink.builder(client, queue).name(name).deduplication(deduplication).messageGroup(messageGroup)
                .delay(delay).outagePatience(outagePatience);
        return StartPatience.open(context, "sink '" + name + "' (queue " + queue + ")", builder::build);
    }

    /** The queue as {@code ferry queues create} and the embedded default make it, with a DLQ. */
    public SqsQueues.QueueSpec queueSpec() {
        return SqsQueues.QueueSpec.withDeadLetterQueue(queueName(), 1000)
                .contentBasedDeduplication(deduplication == SqsSink.Deduplication.CONTENT_BASED);
    }

    /**
     * The owner the setting names (an ARN's account, a queue URL's segment before the name: twelve digits on AWS, a
     * folder's id on some SQS-compatible services), compared as written; null for a bare name, ElasticMQ's
     * {@code /queue/NAME} and the emulators' default account {@code 000000000000}, which name none
     * ({@link SqsModule#queueAccount}).
     */
    public String queueAccount() {
        return SqsModule.queueAccount(queue);
    }

    public String queueName() {
        return SqsModule.queueName(queue);
    }
}
