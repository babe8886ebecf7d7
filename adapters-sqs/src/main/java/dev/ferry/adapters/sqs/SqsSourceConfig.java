package dev.ferry.adapters.sqs;

import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.OpenedSource;
import dev.ferry.domain.spi.Plan;
import dev.ferry.domain.spi.Settings;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * An {@code sqs:} source section.
 *
 * <pre>
 * sqs:
 *   queue: mturk-events            # a name, URL or ARN
 *   allowed-senders: [AIDA...]     # optional: only these SenderIds; others are dead-lettered
 *   max-wait: 20s                  # long poll, up to 20 s
 * </pre>
 */
public record SqsSourceConfig(String name, String queue, Set<String> allowedSenders, Duration maxWait)
        implements Plan<OpenedSource> {

    public static SqsSourceConfig read(Settings s) {
        String queue = s.required("queue");
        var maxWait = s.duration("max-wait", Duration.ofSeconds(20));
        if (maxWait.toSeconds() > 20) {
            s.problem("max-wait", "SQS long polls last at most 20s, was " + maxWait.toSeconds() + "s");
        } else if (maxWait.isNegative() || maxWait.getNano() != 0) {
            // SQS waits whole seconds: the source refused it at start, after the configuration had passed
            s.problem("max-wait", "must be whole seconds 0..20s, was " + dev.ferry.domain.model.Durations.text(maxWait));
        }
        return new SqsSourceConfig(s.name(), queue, new LinkedHashSet<>(s.strings("allowed-senders")), maxWait);
    }

    /** A queue name ending in {@code .fifo} (or such a URL or ARN). */
    public boolean fifo() {
        return queue != null && queue.endsWith(".fifo");
    }

    @Override
    public OpenedSource open(AdapterContext context) {
        var client = SqsModule.client(context);
        if (context.provision()) {
            SqsQueues.of(client).create(queueSpec());
        }
        var builder = SqsSource.builder(client, queue).name(name).allowedSenders(allowedSenders)
                .maxWait(maxWait).ferryMaxReceives(context.maxReceives())
                // a long poll open at close would be waited for to release what it brings: not worth it
                // when the queue goes with the run (Ctrl-C on a local run took 5 s)
                .closeWait(context.queuesEndWithRun() ? Duration.ZERO : SqsSource.DEFAULT_CLOSE_WAIT);
        var source = StartPatience.open(context, "source '" + name + "' (queue " + queue + ")", builder::build);
        return OpenedSource.of(source, source.queueUrl());
    }

    /**
     * The queue as {@code ferry queues create} and the embedded default make it: with a DLQ whose
     * redrive count (1000) stays out of the way of Ferry's own max-receives.
     */
    public SqsQueues.QueueSpec queueSpec() {
        return SqsQueues.QueueSpec.withDeadLetterQueue(queueName(), 1000);
    }

    /** The queue's name, whether the setting is a name, a URL or an ARN. */
    public String queueName() {
        return SqsModule.queueName(queue);
    }

    /**
     * The owner the setting names (an ARN's account, a queue URL's segment before the name: twelve digits on AWS, a
     * folder's id on some SQS-compatible services), compared as written; null for a bare name (the caller's own account,
     * whichever that is), ElasticMQ's {@code /queue/NAME} and the emulators' default account {@code 000000000000}, which
     * name none ({@link SqsModule#queueAccount}).
     */
    public String queueAccount() {
        return SqsModule.queueAccount(queue);
    }
}
