package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

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
}
