package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.sqs.SqsQueues;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesResponse;
import software.amazon.awssdk.services.sqs.model.ListMessageMoveTasksRequest;
import software.amazon.awssdk.services.sqs.model.ListMessageMoveTasksResponse;
import software.amazon.awssdk.services.sqs.model.ListMessageMoveTasksResultEntry;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SqsException;
import software.amazon.awssdk.services.sqs.model.StartMessageMoveTaskRequest;
import software.amazon.awssdk.services.sqs.model.StartMessageMoveTaskResponse;

/** Which of SQS's move tasks {@code ferry queues redrive --native} follows, against an SQS that answers as told. */
class NativeRedriveTest {

    private static final String DLQ = "http://127.0.0.1:9324/000000000000/orders-dlq";
    private static final String DLQ_ARN = "arn:aws:sqs:us-east-1:000000000000:orders-dlq";

    private final StringWriter printed = new StringWriter();

    @Test // a review: a second operator started a move of the DLQ after the first one's had ended, before its next
          // poll: the newest task listed was theirs, running under its own handle, and the first's command said its
          // move, done, was gone (exit 1)
    void aMoveDone_behindOneSomeoneElseStartedAfterIt_isDone() throws Exception {
        var lists = new AtomicInteger();
        var client = sqs(request -> lists.getAndIncrement() == 0
                ? List.<ListMessageMoveTasksResultEntry>of() // none before ours
                : List.of(task("theirs", "RUNNING", 2_000, 3), task(null, "COMPLETED", 1_000, 10)));
        var progress = new RedriveProgressLine(new PrintWriter(printed, true), false, 0);
        var redrive = new NativeRedrive(SqsQueues.of(client), DLQ_ARN, progress, "orders-dlq", Duration.ofMillis(10),
                NativeRedrive.OUTAGE);

        assertThat(redrive.run(DLQ, null, 0, "the queues they came from")).as(printed.toString()).isEqualTo(Ferry.OK);
        assertThat(printed.toString()).contains("moved 10 message(s) by SQS's count from orders-dlq");
        assertThat(lists.get()).as("asked once before the start, then followed").isGreaterThanOrEqualTo(2);
    }

    @Test // a review: the list before the start throttled, and ours done within the first poll, so never seen with its
          // handle: of the finished tasks started in the minute before ours, the first was taken — another operator's,
          // ended FAILED before ours began — and the command said its own move, done, had failed (exit 1)
    void aMoveDoneUnseen_afterTheListBeforeItWasThrottled_isTheOneStartedNearestOurs() throws Exception {
        long now = System.currentTimeMillis(); // this host's start of ours, within the test's few milliseconds
        var lists = new AtomicInteger();
        var client = sqs(request -> {
            if (lists.getAndIncrement() == 0) { // the task before ours not told
                throw SqsException.builder().message("Rate exceeded").statusCode(400)
                        .awsErrorDetails(AwsErrorDetails.builder().errorCode("ThrottlingException")
                                .errorMessage("Rate exceeded").build()).build();
            }
            return List.of(task(null, "COMPLETED", now, 10), task(null, "FAILED", now - 30_000, 3));
        });
        var progress = new RedriveProgressLine(new PrintWriter(printed, true), false, 0);
        var redrive = new NativeRedrive(SqsQueues.of(client), DLQ_ARN, progress, "orders-dlq", Duration.ofMillis(10),
                NativeRedrive.OUTAGE);

        assertThat(redrive.run(DLQ, null, 0, "the queues they came from")).as(printed.toString()).isEqualTo(Ferry.OK);
        assertThat(printed.toString()).contains("moved 10 message(s) by SQS's count from orders-dlq");
        assertThat(lists.get()).as("the throttled ask before the start, then followed").isGreaterThanOrEqualTo(2);
    }

    /** A task as SQS lists it: with its handle while it runs, without it once finished. */
    private static ListMessageMoveTasksResultEntry task(String handle, String status, long startedAt, long moved) {
        return ListMessageMoveTasksResultEntry.builder().taskHandle(handle).status(status).sourceArn(DLQ_ARN)
                .startedTimestamp(startedAt).approximateNumberOfMessagesMoved(moved)
                .approximateNumberOfMessagesToMove(moved).build();
    }

    /**
     * An SQS whose DLQ lists the tasks {@code listed} answers (newest first, as many as asked for), starts the task
     * {@code ours}, and holds no message.
     */
    private static SqsClient sqs(java.util.function.Function<ListMessageMoveTasksRequest,
            List<ListMessageMoveTasksResultEntry>> listed) {
        return (SqsClient) Proxy.newProxyInstance(NativeRedriveTest.class.getClassLoader(),
                new Class<?>[] {SqsClient.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "listMessageMoveTasks" -> {
                        if (!(args[0] instanceof ListMessageMoveTasksRequest r)) {
                            yield InvocationHandler.invokeDefault(proxy, method, args);
                        }
                        var tasks = listed.apply(r);
                        int max = r.maxResults() == null ? 1 : r.maxResults(); // SQS's default is 1
                        yield ListMessageMoveTasksResponse.builder()
                                .results(tasks.subList(0, Math.min(max, tasks.size()))).build();
                    }
                    case "startMessageMoveTask" -> args[0] instanceof StartMessageMoveTaskRequest
                            ? StartMessageMoveTaskResponse.builder().taskHandle("ours").build()
                            : InvocationHandler.invokeDefault(proxy, method, args);
                    case "getQueueAttributes" -> args[0] instanceof GetQueueAttributesRequest
                            ? GetQueueAttributesResponse.builder().attributes(Map.of(
                                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, "0",
                                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE, "0")).build()
                            : InvocationHandler.invokeDefault(proxy, method, args);
                    case "serviceName" -> "sqs";
                    case "close" -> null;
                    default -> throw new AssertionError("a call this test does not expect: " + method.getName());
                });
    }
}
