package dev.ferry.adapters.sqs;

import java.net.URI;
import java.util.UUID;
import java.util.function.Function;
import java.util.concurrent.atomic.AtomicInteger;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SqsRequest;

/**
 * One ElasticMQ server on 127.0.0.1 (a free port) for the whole test run, started by the first
 * test class that asks for it and stopped when the run ends (JUnit closes the root store).
 */
final class ElasticMq implements BeforeAllCallback {

    private static final AtomicInteger NAMES = new AtomicInteger();
    private static volatile Server server;

    record Server(SQSRestServer rest, URI endpoint, SqsClient client) implements AutoCloseable {
        @Override
        public void close() {
            client.close();
            rest.stopAndWait();
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        server = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent("elasticmq", key -> start(), Server.class);
    }

    private static Server start() {
        var rest = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        int port = rest.waitUntilStarted().localAddress().getPort();
        var endpoint = URI.create("http://127.0.0.1:" + port);
        return new Server(rest, endpoint, newClient(endpoint));
    }

    static SqsClient newClient(URI endpoint) {
        return SqsClients.builder().endpoint(endpoint).staticCredentials("x", "x").build();
    }

    /** A client of the test server whose calls pass through {@code interceptor} (close it after). */
    static SqsClient clientWith(software.amazon.awssdk.core.interceptor.ExecutionInterceptor interceptor) {
        return SqsClient.builder()
                .endpointOverride(endpoint())
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("x", "x")))
                .checksumValidationEnabled(false)
                .overrideConfiguration(c -> c.addExecutionInterceptor(interceptor))
                .build();
    }

    /** A client of the test server whose requests of {@code type} are sent as {@code change} makes them (close it after). */
    static <R extends SqsRequest> SqsClient changing(Class<R> type, Function<R, SqsRequest> change) {
        return clientWith(new ExecutionInterceptor() {
            @Override
            public SdkRequest modifyRequest(Context.ModifyRequest context, ExecutionAttributes attributes) {
                return type.isInstance(context.request()) ? change.apply(type.cast(context.request())) : context.request();
            }
        });
    }

    static SqsClient client() {
        return server.client();
    }

    static URI endpoint() {
        return server.endpoint();
    }

    /** A queue name no other test uses; {@code .fifo} appended for FIFO. */
    static String uniqueName(String prefix, boolean fifo) {
        String name = prefix + "-" + NAMES.incrementAndGet() + "-" + UUID.randomUUID().toString().substring(0, 8);
        return fifo ? name + ".fifo" : name;
    }
}
