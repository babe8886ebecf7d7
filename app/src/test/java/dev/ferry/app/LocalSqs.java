package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.domain.transport.DeadLetterAttributes;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/** An ElasticMQ server on 127.0.0.1 and a free port, with a client and the helpers the end-to-end tests share. */
public final class LocalSqs implements AutoCloseable {

    final SQSRestServer server;
    public final int port;
    public final SqsClient client;

    public LocalSqs() {
        this(0);
    }

    /** A server on {@code port} (0: any free one); a fixed port lets a test stop one and start another in its place. */
    public LocalSqs(int fixedPort) {
        var builder = SQSRestServerBuilder.withInterface("127.0.0.1");
        server = (fixedPort == 0 ? builder.withDynamicPort() : builder.withPort(fixedPort)).start();
        port = server.waitUntilStarted().localAddress().getPort();
        client = SqsClients.builder().endpoint(URI.create(endpoint())).staticCredentials("x", "x").build();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** What a Ferry process needs to use this server instead of AWS. */
    public Map<String, String> env() {
        return Map.of("AWS_ENDPOINT_URL", endpoint(), "AWS_REGION", "us-east-1");
    }

    public String url(String queue) {
        return client.getQueueUrl(b -> b.queueName(queue)).queueUrl();
    }

    public void send(String queue, String body) {
        client.sendMessage(b -> b.queueUrl(url(queue)).messageBody(body));
    }

    /** Everything in the queue now, each message received once and deleted (bounded: 50 empty-handed tries). */
    public List<Message> drain(String queue, int atLeast, int seconds) {
        var all = new ArrayList<Message>();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        String url = url(queue);
        while (System.nanoTime() < end) {
            var got = client.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(1)
                    .messageAttributeNames("All").messageSystemAttributeNames(MessageSystemAttributeName.ALL)).messages();
            for (var m : got) {
                all.add(m);
                client.deleteMessage(b -> b.queueUrl(url).receiptHandle(m.receiptHandle()));
            }
            if (got.isEmpty() && all.size() >= atLeast) {
                break;
            }
        }
        return all;
    }

    /** Messages visible plus in flight in the queue. */
    public int depth(String queue) {
        var a = client.getQueueAttributes(b -> b.queueUrl(url(queue)).attributeNames(
                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
                .attributes();
        return Integer.parseInt(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                + Integer.parseInt(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
    }

    /**
     * A consumer of {@code queue} that still fails: each message it receives goes back to {@code dlq} as it came, until
     * the returned handle is closed (which waits for it, 10 s at most).
     */
    public AutoCloseable failingConsumer(String queue, String dlq) {
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        var failing = Thread.ofVirtual().start(() -> {
            while (!stop.get()) {
                for (var m : client.receiveMessage(b -> b.queueUrl(url(queue)).waitTimeSeconds(1)
                        .maxNumberOfMessages(10).messageAttributeNames("All")).messages()) {
                    client.sendMessage(b -> b.queueUrl(url(dlq)).messageBody(m.body()).messageAttributes(m.messageAttributes()));
                    client.deleteMessage(b -> b.queueUrl(url(queue)).receiptHandle(m.receiptHandle()));
                }
            }
        });
        return () -> {
            stop.set(true);
            failing.join(10_000);
        };
    }

    public static String reason(Message dead) {
        var value = dead.messageAttributes().get(DeadLetterAttributes.REASON);
        return value == null ? null : value.stringValue();
    }

    @Override
    public void close() {
        client.close();
        server.stopAndWait();
    }
}
