package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;

/**
 * Sends that failed for no message's fault, on a real SQS server (ElasticMQ): a call that got no answer
 * from SQS (an exception the SDK lets through, an interceptor's) and a queue deleted under the sink.
 * Neither is the message's doing: each is waited out, never dead-lettered at once.
 */
@ExtendWith(ElasticMq.class)
class SqsCallFailuresIT {

    /** What Apache's HttpClient throws, through the SDK unwrapped, once the client's connection pool is closed. */
    private static final String POOL_SHUT_DOWN = "Connection pool shut down";

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T open(T closeable) {
        opened.add(closeable);
        return closeable;
    }

    private static Event event(String key, String payload) {
        return new Event(key, "Test", null, "g", payload.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** A client whose SendMessageBatch calls throw {@code thrown} before they are sent, while {@code failing} is set. */
    private SqsClient throwingBefore(AtomicBoolean failing, RuntimeException thrown) {
        return open(ElasticMq.clientWith(new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof SendMessageBatchRequest && failing.get()) {
                    throw thrown;
                }
            }
        }));
    }

    /** The bodies of what is in the queue, read without waiting longer than a few seconds. */
    private static List<String> bodies(SqsClient client, String url) {
        return client.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(2).visibilityTimeout(60))
                .messages().stream().map(Message::body).toList();
    }

    @Test
    void anExceptionOfTheTransport_beforeTheCall_isRetried_notRejected_andTheEventArrivesOnceSentAgain() {
        // blamed on the message, the event was dead-lettered at once (its group parked), SQS never asked
        var q = open(SqsFixture.create(ElasticMq.client(), false, 1000));
        var failing = new AtomicBoolean(true);
        var client = throwingBefore(failing, new IllegalStateException(POOL_SHUT_DOWN));
        // not sent again inside the sink: the publish answers for the failed call itself
        var sink = open(SqsSink.builder(client, q.url).senders(1).retries(0).build());

        var outcome = sink.publish(event("e1", "p1"));
        failing.set(false);

        // an attempt spent, not an outage waited out: a call that throws every time must not store an event 4 times a second
        assertThat(outcome).isInstanceOfSatisfying(Outcome.Retry.class, r -> assertThat(r.reason()).contains(POOL_SHUT_DOWN));
        assertThat(sink.holdingBack()).as("no outage").isEmpty();
        assertThat(sink.publish(event("e1", "p1"))).isEqualTo(Outcome.done());
        assertThat(q.approximateVisible()).isEqualTo(1);
        assertThat(bodies(q.client, q.url)).containsExactly("p1");
    }

    @Test
    void anInterceptorThrowingAnExceptionWhoseTextThrows_failsThatCallOnly_andTheSinkSendsOn() {
        // described on the sender's thread, the exception threw again and ended it: that call's publish waited out its
        // timeout, and with every sender gone the sink sent nothing until a restart (throttled, then dead-lettered)
        var q = open(SqsFixture.create(ElasticMq.client(), false, 1000));
        var failing = new AtomicBoolean(true);
        var client = throwingBefore(failing, new Unreadable());
        var sink = open(SqsSink.builder(client, q.url).senders(1).retries(0).timeout(Duration.ofSeconds(10)).build());

        var outcome = sink.publish(event("e1", "p1"));
        failing.set(false);

        assertThat(outcome).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains(Unreadable.class.getName()));
        assertThat(sink.publish(event("e1", "p1"))).as("the one sender still sends").isEqualTo(Outcome.done());
        assertThat(bodies(q.client, q.url)).containsExactly("p1");
    }

    /** A plugin's exception whose text cannot be read: reading it throws another such. */
    private static final class Unreadable extends RuntimeException {
        @Override
        public String getMessage() {
            throw new Unreadable();
        }
    }

    @Test
    void anInterceptorThrowingAfterSqsStoredTheBatch_isRetried_notRejected_andFifoDedupKeepsTheResendOut() {
        // a tracing agent's afterExecution: SQS has the message, the sink heard only the exception. Rejected, the event
        // was dead-lettered although delivered; sent again, the FIFO queue drops the copy by its deduplication id
        var q = open(SqsFixture.create(ElasticMq.client(), true, 1000));
        var thrown = new AtomicBoolean();
        var client = open(ElasticMq.clientWith(new ExecutionInterceptor() {
            @Override
            public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof SendMessageBatchRequest && thrown.compareAndSet(false, true)) {
                    throw new IllegalStateException("a tracing agent's (injected)");
                }
            }
        }));
        var sink = open(SqsSink.builder(client, q.url).senders(1).retries(0).build());

        var outcome = sink.publish(event("e1", "p1"));

        assertThat(thrown).isTrue();
        assertThat(outcome).isInstanceOf(Outcome.Retry.class);
        assertThat(sink.publish(event("e1", "p1"))).isEqualTo(Outcome.done());
        assertThat(q.approximateVisible()).as("stored once, the resend dropped as a duplicate").isEqualTo(1);
        assertThat(bodies(q.client, q.url)).containsExactly("p1");
    }

    @Test
    void aDeadLetterCopyWhoseCallGotNoAnswer_isOwed_notGivenUpForGood() {
        // given up for good, a FIFO dead-letter queue's group was held behind it for 12 hours, and the message ran again
        var failing = new AtomicBoolean();
        var client = throwingBefore(failing, new IllegalStateException(POOL_SHUT_DOWN));
        var q = open(SqsFixture.create(client, true, 1000));
        q.send("poison", Map.of(), "g");
        var got = q.source().poll(new PollRequest(1, Duration.ofSeconds(5), Duration.ofSeconds(30)));
        assertThat(got).hasSize(1);
        var deadLetter = List.of(new Settlement(got.getFirst(), Disposition.deadLetter("poison")));

        failing.set(true);
        var failures = q.source().settle(deadLetter);
        failing.set(false);

        assertThat(failures).singleElement().satisfies(f -> assertThat(f.retryable()).as(f.reason()).isTrue());
        assertThat(q.source().settle(deadLetter)).as("copied once the calls work again").isEmpty();
        assertThat(q.deadLetterMessages()).extracting(Message::body).containsExactly("poison");
    }

    @Test
    void aQueueDeletedUnderTheSink_isWaitedOut_andTheEventArrivesInTheQueueMadeAgain() {
        // answered Retry, every event sent while the queue was being made again spent its attempts within seconds
        var client = ElasticMq.client();
        var spec = new SqsQueues.QueueSpec(ElasticMq.uniqueName("made-again", false), false, Duration.ofSeconds(30),
                Duration.ZERO, null, 0);
        var url = SqsQueues.of(client).create(spec).url();
        var sink = open(SqsSink.builder(client, url).retries(0).build());
        client.deleteQueue(b -> b.queueUrl(url));

        var meanwhile = sink.publish(event("e1", "sent while the queue was gone"));

        assertThat(meanwhile).isInstanceOf(Outcome.Throttled.class);
        assertThat(sink.holdingBack()).hasValueSatisfying(p -> assertThat(p).contains(spec.name()));
        assertThat(SqsQueues.of(client).create(spec).url()).isEqualTo(url);
        try {
            assertThat(sink.publish(event("e1", "sent while the queue was gone"))).isEqualTo(Outcome.done());
            assertThat(sink.holdingBack()).as("SQS took it: the outage is over").isEmpty();
            assertThat(bodies(client, url)).containsExactly("sent while the queue was gone");
        } finally {
            client.deleteQueue(b -> b.queueUrl(url));
        }
    }
}
