package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ParkingDeadLettersTest {

    @Test // a review: the URLs were compared whole, so a source named by a VPC endpoint's or a legacy URL was not matched
    void aQueueIsKnownByItsAccountAndName_underAnyHost() {
        assertThat(ParkingDeadLetters.accountAndName("https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo"))
                .isEqualTo(ParkingDeadLetters.accountAndName("https://vpce-0a1b.sqs.eu-west-1.vpce.amazonaws.com/123456789012/orders.fifo"))
                .isEqualTo(ParkingDeadLetters.accountAndName("https://eu-west-1.queue.amazonaws.com/123456789012/orders.fifo"))
                .isEqualTo("123456789012/orders.fifo");
        assertThat(ParkingDeadLetters.accountAndName("http://127.0.0.1:9324/000000000000/orders.fifo"))
                .isNotEqualTo(ParkingDeadLetters.accountAndName("http://127.0.0.1:9324/111111111111/orders.fifo"));
    }

    @Test // a review: any failure to find a parking source's queue let the redrive through — a throttled or denied
          // GetQueueUrl, and the parked groups went back out of order
    void aParkingSourceWhoseQueueCannotBeLookedUpNow_refusesTheRedrive_oneThatIsGone_doesNot() {
        var config = ((dev.ferry.app.config.ConfigReader.Result.Ok) ConfigReaderTest.parse("""
                sources: {orders: {sqs: {queue: orders.fifo}, format: json, on-poison: park}}
                ledger: {kind: mvstore, path: /tmp/unused.db}
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """)).config();
        String dlq = "http://127.0.0.1:9324/000000000000/orders-dlq.fifo";
        var throttled = software.amazon.awssdk.services.sqs.model.SqsException.builder().message("Rate exceeded")
                .statusCode(400).awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder()
                        .errorCode("ThrottlingException").build()).build();
        assertThatThrownBy(() -> ParkingDeadLetters.parkingSource(config, dev.ferry.adapters.sqs.SqsQueues.of(client(dlq, throttled)), dlq))
                .hasMessageContaining("GetQueueUrl");
        var gone = software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException.builder().message("no queue").build();
        assertThat(ParkingDeadLetters.parkingSource(config, dev.ferry.adapters.sqs.SqsQueues.of(client(dlq, gone)), dlq)).isNull();
        var goneByCode = software.amazon.awssdk.services.sqs.model.SqsException.builder().message("no queue").statusCode(400)
                .awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder()
                        .errorCode("AWS.SimpleQueueService.NonExistentQueue").build()).build();
        assertThat(ParkingDeadLetters.parkingSource(config, dev.ferry.adapters.sqs.SqsQueues.of(client(dlq, goneByCode)), dlq))
                .as("the older code for it").isNull();
    }

    /**
     * A review: told by its reason alone, a letter parked with its group whose group the ledger no longer held parked (it
     * came after a release stopped waiting for it, a release gave it up as missing, the park was lost) stayed through
     * every redrive, and no release would take it. The ledger says which groups are parked now, by the queue a letter
     * names; what this configuration cannot see is said parked, its letters left as before.
     */
    @Test
    void parkedNow_isTheLedgersWord_forTheQueuesOfItsParkingSources_andParkedForWhatItCannotSee() {
        var config = ((dev.ferry.app.config.ConfigReader.Result.Ok) ConfigReaderTest.parse("""
                sources: {orders: {sqs: {queue: orders.fifo}, format: json, on-poison: park}}
                ledger: {kind: mvstore, path: /tmp/unused.db}
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """)).config();
        var ledger = dev.ferry.domain.idempotency.InMemoryLedger.create();
        assertThat(ledger.replaceParkedGroup(null, new dev.ferry.domain.parking.ParkedGroup("orders", "H", "h1", "m-1",
                "HTTP 400", java.time.Instant.EPOCH, java.time.Instant.EPOCH, 2, 0, null, 0, 0, false, 0))).isTrue();

        var parkedNow = ParkingDeadLetters.parkedNow(config, ledger);

        assertThat(parkedNow.test("orders.fifo", "H")).as("parked now").isTrue();
        assertThat(parkedNow.test("orders.fifo", "G")).as("no longer parked: its letters move").isFalse();
        assertThat(parkedNow.test(null, "H")).as("a letter naming no queue: any parking source's").isTrue();
        assertThat(parkedNow.test(null, "G")).isFalse();
        assertThat(parkedNow.test("payments.fifo", "G")).as("a queue no source here reads: not known, left").isTrue();
        assertThat(ParkingDeadLetters.parkedNow(config, new Object()).test("orders.fifo", "G"))
                .as("a ledger that keeps no parked groups: not known, left").isTrue();
        assertThat(ParkingDeadLetters.queueName("https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo"))
                .isEqualTo(ParkingDeadLetters.queueName("arn:aws:sqs:eu-west-1:123456789012:orders.fifo"))
                .isEqualTo(ParkingDeadLetters.queueName("orders.fifo")).isEqualTo("orders.fifo");
    }

    @org.junit.jupiter.api.Test
    void oneQueueUnderTwoHosts_isOneQueue_forTheRedrivesSameQueueCheck() {
        // compared as strings, --from orders-dlq --to <its URL under another host> redrove the DLQ into itself, every
        // dead letter's reason stripped
        org.assertj.core.api.Assertions.assertThat(ParkingDeadLetters.sameQueue("http://127.0.0.1:9324/000000000000/orders-dlq",
                "http://localhost:9324/000000000000/orders-dlq")).isTrue();
        org.assertj.core.api.Assertions.assertThat(ParkingDeadLetters.sameQueue(
                "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq",
                "https://vpce-1.sqs.eu-west-1.vpce.amazonaws.com/123456789012/orders-dlq")).isTrue();
        org.assertj.core.api.Assertions.assertThat(ParkingDeadLetters.sameQueue("http://127.0.0.1:9324/000000000000/orders-dlq",
                "http://127.0.0.1:9324/000000000000/orders")).isFalse();
        org.assertj.core.api.Assertions.assertThat(ParkingDeadLetters.sameQueue(
                "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-dlq",
                "https://sqs.eu-west-1.amazonaws.com/222222222222/orders-dlq")).as("another account's").isFalse();
    }

    /** A client whose only DLQ source is the parking source's queue, and whose GetQueueUrl throws {@code failure}. */
    private static software.amazon.awssdk.services.sqs.SqsClient client(String dlq, RuntimeException failure) {
        return (software.amazon.awssdk.services.sqs.SqsClient) java.lang.reflect.Proxy.newProxyInstance(
                ParkingDeadLettersTest.class.getClassLoader(), new Class<?>[] {software.amazon.awssdk.services.sqs.SqsClient.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getQueueUrl" -> throw failure;
                    case "listDeadLetterSourceQueuesPaginator" -> java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args);
                    case "listDeadLetterSourceQueues" -> software.amazon.awssdk.services.sqs.model.ListDeadLetterSourceQueuesResponse
                            .builder().queueUrls(dlq.replace("orders-dlq.fifo", "orders.fifo")).build();
                    case "serviceName" -> "sqs";
                    case "close" -> null;
                    default -> throw new AssertionError("a call this test does not expect: " + method.getName());
                });
    }
}
