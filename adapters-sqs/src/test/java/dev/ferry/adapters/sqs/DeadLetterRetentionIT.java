package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesResponse;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * How long the dead-letter queues keep what Ferry puts there (docs/RELIABILITY.md, nineteenth round, noticed and
 * left: SQS's default of 4 days deleted dead letters and parked groups' heads unsaid). ElasticMQ neither keeps a
 * queue's MessageRetentionPeriod nor reports it (it ignores the attribute on create and leaves it out of
 * GetQueueAttributes), so a client's interceptor reads what Ferry asks SQS for, and adds to the server's own answer
 * the retention real SQS reports; everything else is ElasticMQ's.
 */
@ExtendWith(ElasticMq.class)
class DeadLetterRetentionIT {

    private static final String FOUR_DAYS = "345600";
    private static final String FOURTEEN_DAYS = "1209600";

    private final List<AutoCloseable> opened = new ArrayList<>();
    /** Every CreateQueue sent: queue name to the attributes it asked for. */
    private final Map<String, Map<String, String>> creates = new ConcurrentHashMap<>();
    /** The MessageRetentionPeriod a queue URL reports, as SQS would; ElasticMQ reports none. */
    private final Map<String, String> retention = new ConcurrentHashMap<>();
    /** GetQueueAttributes calls that asked for MessageRetentionPeriod, by queue URL. */
    private final List<String> retentionReads = new CopyOnWriteArrayList<>();
    /** Queue names whose CreateQueue is answered as SQS answers one for a queue that exists with other attributes. */
    private final Set<String> existing = ConcurrentHashMap.newKeySet();
    /** Queue URLs whose GetQueueAttributes for MessageRetentionPeriod is refused (AccessDenied). */
    private final Set<String> unreadable = ConcurrentHashMap.newKeySet();

    @AfterEach
    void close() throws Exception {
        for (var c : opened.reversed()) {
            c.close();
        }
    }

    private SqsClient client() {
        var client = ElasticMq.clientWith(new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof CreateQueueRequest r) {
                    creates.put(r.queueName(), r.attributesAsStrings());
                }
            }

            @Override
            public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
                String code = refusal(context);
                return code == null ? context.httpResponse() : context.httpResponse().toBuilder().statusCode(400)
                        .statusText("Bad Request").putHeader("x-amzn-query-error", code + ";Sender")
                        .putHeader("Content-Type", "application/x-amz-json-1.0").build();
            }

            @Override
            public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context,
                    ExecutionAttributes attributes) {
                String code = refusal(context);
                if (code == null) {
                    return context.responseBody();
                }
                String shape = code.equals("QueueAlreadyExists") ? "QueueNameExists" : code;
                String body = "{\"__type\":\"com.amazonaws.sqs#" + shape + "\",\"message\":\"" + code + " (injected)\"}";
                return Optional.of(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
            }

            @Override
            public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes attributes) {
                if (context.request() instanceof GetQueueAttributesRequest r && asksRetention(r)
                        && context.response() instanceof GetQueueAttributesResponse answer) {
                    retentionReads.add(r.queueUrl());
                    String seconds = retention.get(r.queueUrl());
                    if (seconds != null) {
                        var all = new HashMap<>(answer.attributesAsStrings());
                        all.put(QueueAttributeName.MESSAGE_RETENTION_PERIOD.toString(), seconds);
                        return answer.toBuilder().attributesWithStrings(all).build();
                    }
                }
                return context.response();
            }
        });
        opened.add(client);
        return client;
    }

    /** The query error code SQS would answer this call with, or null for the server's own answer. */
    private String refusal(Context.ModifyHttpResponse context) {
        if (context.request() instanceof CreateQueueRequest r && existing.contains(r.queueName())
                && !FOUR_DAYS.equals(r.attributesAsStrings().getOrDefault("MessageRetentionPeriod", FOUR_DAYS))) {
            return "QueueAlreadyExists"; // SQS: the attributes asked for are not those the queue has
        }
        if (context.request() instanceof GetQueueAttributesRequest r && asksRetention(r) && unreadable.contains(r.queueUrl())) {
            return "AccessDenied";
        }
        return null;
    }

    private static boolean asksRetention(GetQueueAttributesRequest r) {
        return r.attributeNames().contains(QueueAttributeName.MESSAGE_RETENTION_PERIOD);
    }

    private SqsQueues.Created created(SqsQueues.Created c) {
        opened.add(() -> {
            ElasticMq.client().deleteQueue(b -> b.queueUrl(c.url()));
            ElasticMq.client().deleteQueue(b -> b.queueUrl(c.deadLetterQueueUrl()));
        });
        return c;
    }

    private static String name(String url) {
        return url.substring(url.lastIndexOf('/') + 1);
    }

    /** The captured lines that name {@code queue}. */
    private static List<String> about(CapturedLog log, String queue) {
        return log.lines.stream().filter(line -> line.contains("'" + queue + "'")).toList();
    }

    @Test
    void theDeadLetterQueuesThatQueuesCreateMakes_keepMessages14Days_theQueuesThemselvesSqsDefault() {
        // what `ferry queues create` and the embedded default create: the specs of the config's sources and sinks
        var queues = SqsQueues.of(client());
        var source = new SqsSourceConfig("in", ElasticMq.uniqueName("in", true), Set.of(), Duration.ofSeconds(20));
        var sink = new SqsSinkConfig("out", ElasticMq.uniqueName("out", false), SqsSink.Deduplication.EVENT_KEY, null,
                Duration.ZERO);
        for (var spec : List.of(source.queueSpec(), sink.queueSpec())) {
            var made = created(queues.create(spec));
            assertThat(creates.get(spec.deadLetterQueueName())).as(spec.deadLetterQueueName())
                    .containsEntry("MessageRetentionPeriod", FOURTEEN_DAYS);
            assertThat(creates.get(spec.name())).as(spec.name()).doesNotContainKey("MessageRetentionPeriod");
            assertThat(queues.create(spec)).as("created again: the same queues").isEqualTo(made);
        }
    }

    @Test
    void aSourceWhoseDeadLetterQueueKeepsMessages4Days_saysSoOnceAtItsStart_andOneKeeping14DaysSaysNothing() {
        var client = client();
        var queues = SqsQueues.of(client);
        var shortLived = created(queues.create(SqsQueues.QueueSpec.withDeadLetterQueue(ElasticMq.uniqueName("short", true), 1000)));
        var longLived = created(queues.create(SqsQueues.QueueSpec.withDeadLetterQueue(ElasticMq.uniqueName("long", false), 1000)));
        retention.put(shortLived.deadLetterQueueUrl(), FOUR_DAYS); // made by hand, or by an earlier Ferry
        retention.put(longLived.deadLetterQueueUrl(), FOURTEEN_DAYS);
        retentionReads.clear();

        try (var log = new CapturedLog()) {
            SqsSource.builder(client, shortLived.url()).name("orders").build().close();
            SqsSource.builder(client, longLived.url()).build().close();

            String dlq = name(shortLived.deadLetterQueueUrl());
            assertThat(about(log, dlq)).singleElement().asString().contains("of source 'orders'")
                    .contains("keeps messages 4d (MessageRetentionPeriod 345600)")
                    .contains("deletes dead letters and parked messages")
                    .contains("a group parked (on-poison: park) longer than 4d loses its head")
                    .contains("--queue-url " + shortLived.deadLetterQueueUrl() + " --attributes MessageRetentionPeriod=1209600")
                    .contains("keep the ledger's ttl as long, or redrive within it"); // else a late redrive redoes done parts
            assertThat(about(log, name(longLived.deadLetterQueueUrl()))).isEmpty();
        }
        assertThat(retentionReads).as("one GetQueueAttributes per source").containsExactlyInAnyOrder(
                shortLived.deadLetterQueueUrl(), longLived.deadLetterQueueUrl());
    }

    @Test
    void aStandardSourcesWarning_saysSqsOwnRedriveKeepsTheFirstSendTime_andARetentionNotReadIsALine_notAFailedStart() {
        var client = client();
        var queues = SqsQueues.of(client);
        var standard = created(queues.create(SqsQueues.QueueSpec.withDeadLetterQueue(ElasticMq.uniqueName("std", false), 1000)));
        var denied = created(queues.create(SqsQueues.QueueSpec.withDeadLetterQueue(ElasticMq.uniqueName("denied", false), 1000)));
        retention.put(standard.deadLetterQueueUrl(), "86400");
        unreadable.add(denied.deadLetterQueueUrl());

        try (var log = new CapturedLog()) {
            SqsSource.builder(client, standard.url()).build().close();
            SqsSource.builder(client, denied.url()).build().close();

            assertThat(about(log, name(standard.deadLetterQueueUrl()))).singleElement().asString()
                    .contains("keeps messages 1d").contains("keeps the time it was first sent").doesNotContain("on-poison");
            assertThat(about(log, name(denied.deadLetterQueueUrl()))).singleElement().asString()
                    .contains("could not be read").contains("AccessDenied").contains("14 days");
        }
    }

    @Test
    void aDeadLetterQueueThatExistsWithSqsDefaultRetention_isKeptAsItIs_andCreateSaysItsRetention() {
        // SQS refuses to create a queue again with attributes other than it has: every DLQ an earlier Ferry made
        var client = client();
        String name = ElasticMq.uniqueName("earlier", false);
        String dlqUrl = ElasticMq.client().createQueue(b -> b.queueName(name + "-dlq")).queueUrl();
        existing.add(name + "-dlq");
        retention.put(dlqUrl, FOUR_DAYS);

        try (var log = new CapturedLog()) {
            var made = created(SqsQueues.of(client).create(SqsQueues.QueueSpec.withDeadLetterQueue(name, 1000)));

            assertThat(made.deadLetterQueueUrl()).isEqualTo(dlqUrl);
            assertThat(SqsQueues.of(client).describe(made.url()).redrive()).hasValueSatisfying(
                    p -> assertThat(p.deadLetterTargetArn()).endsWith(":" + name + "-dlq"));
            assertThat(about(log, name + "-dlq")).singleElement().asString().contains("keeps messages 4d")
                    .doesNotContain("of source");
        }
    }

    @Test
    void onElasticMq_noRetentionIsReported_soNothingIsSaid() {
        // the embedded server of a local run: it keeps messages until they are deleted
        var created = created(SqsQueues.of(ElasticMq.client()).create(
                SqsQueues.QueueSpec.withDeadLetterQueue(ElasticMq.uniqueName("local", false), 1000)));
        try (var log = new CapturedLog()) {
            SqsSource.builder(client(), created.url()).build().close();
            assertThat(about(log, name(created.deadLetterQueueUrl()))).isEmpty();
        }
        assertThat(retentionReads).as("asked once all the same").containsExactly(created.deadLetterQueueUrl());
    }
}
