package dev.ferry.adapters.sqs;

import dev.ferry.domain.contract.QueueFixture;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/** A queue and its DLQ on ElasticMQ, with Ferry's source, acknowledger and sink on it. */
final class SqsFixture implements QueueFixture {

    final SqsClient client;
    final SqsQueues queues;
    final String url;
    final String dlqUrl;
    final boolean fifo;
    private final SqsSource source;
    private SqsSink sink;

    private SqsFixture(SqsClient client, SqsQueues.Created created, boolean fifo, SqsSource source) {
        this.client = client;
        this.queues = SqsQueues.of(client);
        this.url = created.url();
        this.dlqUrl = created.deadLetterQueueUrl();
        this.fifo = fifo;
        this.source = source;
    }

    static SqsFixture create(SqsClient client, boolean fifo, int maxReceiveCount) {
        return create(client, fifo, maxReceiveCount, UnaryOperator.identity());
    }

    static SqsFixture create(SqsClient client, boolean fifo, int maxReceiveCount,
                             UnaryOperator<SqsSource.Builder> configure) {
        var spec = SqsQueues.QueueSpec.withDeadLetterQueue(ElasticMq.uniqueName("ferry", fifo), maxReceiveCount)
                .contentBasedDeduplication(fifo);
        var created = SqsQueues.of(client).create(spec);
        var source = configure.apply(SqsSource.builder(client, created.url())).build();
        return new SqsFixture(client, created, fifo, source);
    }

    @Override
    public SqsSource source() {
        return source;
    }

    @Override
    public SqsSource acknowledger() {
        return source;
    }

    @Override
    public synchronized SqsSink sink() {
        if (sink == null) {
            sink = SqsSink.builder(client, url).build();
        }
        return sink;
    }

    @Override
    public void send(String body, Map<String, String> attributes, String groupId) {
        var typed = new HashMap<String, MessageAttributeValue>();
        attributes.forEach((k, v) -> typed.put(k, MessageAttributes.string(v)));
        client.sendMessage(b -> {
            b.queueUrl(url).messageBody(body).messageAttributes(typed);
            if (fifo) {
                b.messageGroupId(groupId == null ? "default" : groupId).messageDeduplicationId(UUID.randomUUID().toString());
            }
        });
    }

    /** Everything in the DLQ now (received with a 30 s visibility, so each message once). */
    List<Message> deadLetterMessages() {
        var all = new ArrayList<Message>();
        for (;;) {
            var batch = client.receiveMessage(b -> b.queueUrl(dlqUrl).maxNumberOfMessages(10).waitTimeSeconds(1)
                    .visibilityTimeout(30).messageAttributeNames("All")
                    .messageSystemAttributeNames(MessageSystemAttributeName.ALL)).messages();
            if (batch.isEmpty()) {
                return all;
            }
            all.addAll(batch);
        }
    }

    @Override
    public List<DeadLetter> deadLetters() {
        return deadLetterMessages().stream()
                .map(m -> new DeadLetter(m.body(), reason(m)))
                .toList();
    }

    static String reason(Message m) {
        var reason = m.messageAttributes().get(DeadLetterAttributes.REASON);
        return reason == null ? null : reason.stringValue();
    }

    /** Messages visible in the queue right now, received with a long visibility so each comes once. */
    /** Messages in the dead-letter queue now, visible or not. */
    int approximateDeadLetters() {
        var attributes = client.getQueueAttributes(b -> b.queueUrl(dlqUrl)
                .attributeNamesWithStrings("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))
                .attributesAsStrings();
        return Integer.parseInt(attributes.get("ApproximateNumberOfMessages"))
                + Integer.parseInt(attributes.get("ApproximateNumberOfMessagesNotVisible"));
    }

    int approximateVisible() {
        return Integer.parseInt(client.getQueueAttributes(b -> b.queueUrl(url)
                .attributeNamesWithStrings("ApproximateNumberOfMessages")).attributesAsStrings()
                .get("ApproximateNumberOfMessages"));
    }

    static Duration seconds(int s) {
        return Duration.ofSeconds(s);
    }

    @Override
    public void close() {
        if (sink != null) {
            sink.close();
        }
        source.close();
        client.deleteQueue(b -> b.queueUrl(url));
        client.deleteQueue(b -> b.queueUrl(dlqUrl));
    }
}
