package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A dead-letter queue that takes smaller messages than its source: said at the source's start. */
class DeadLetterSizesTest {

    @Test // a review: a DLQ made before SQS raised its limit kept 256 KiB; its source at 1 MiB dead-lettered messages the
          // DLQ refused, each back every lease, never copied — and nothing said why
    void aDeadLetterQueueSmallerThanItsSource_isSaid_withTheCommandThatMendsIt() {
        assertThat(DeadLetterSizes.warning("orders-dlq", "http://127.0.0.1/q/orders-dlq", 262_144, "1048576", "orders"))
                .get().asString().contains("takes messages of 262144 bytes at most").contains("its source queue of 1048576")
                .contains("--queue-url http://127.0.0.1/q/orders-dlq --attributes MaximumMessageSize=1048576");
        assertThat(DeadLetterSizes.warning("orders-dlq", "u", 1_048_576, "1048576", "orders")).isEmpty();
        assertThat(DeadLetterSizes.warning("orders-dlq", "u", 1_048_576, "262144", "orders")).as("larger: fine").isEmpty();
        assertThat(DeadLetterSizes.warning("orders-dlq", "u", 262_144, null, "orders")).as("not said: not checked").isEmpty();
    }
}
