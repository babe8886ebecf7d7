package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The region a queue's ARN or its AWS URL names; none for a name, or for a host that is not AWS's own. */
class QueueArnsTest {

    @ParameterizedTest
    @CsvSource(nullValues = "none", value = {
        "arn:aws:sqs:eu-west-1:111111111111:orders, eu-west-1",
        "https://sqs.eu-west-1.amazonaws.com/111111111111/orders, eu-west-1",
        "https://sqs-fips.us-gov-west-1.amazonaws.com/111111111111/orders, us-gov-west-1",
        "https://sqs.cn-north-1.amazonaws.com.cn/111111111111/orders, cn-north-1",
        "https://sqs.ap-south-1.api.aws/111111111111/orders, ap-south-1",
        "https://eu-central-1.queue.amazonaws.com/111111111111/orders, eu-central-1",
        "https://queue.amazonaws.com/111111111111/orders, us-east-1",
        "https://SQS.EU-WEST-1.AMAZONAWS.COM/111111111111/orders, eu-west-1",
        "https://sqs.eu-west-1.amazonaws.com:443/111111111111/orders, eu-west-1",
        // a server of the user's own, or a VPC endpoint's host: the region is the client's to know
        "http://127.0.0.1:9324/000000000000/orders, none",
        "https://vpce-0a1b.sqs.us-west-2.vpce.amazonaws.com/111111111111/orders, none",
        "https://sqs.eu-west-1.example.com/111111111111/orders, none",
        "orders, none",
        "arn:aws:sqs:eu-west-1:orders, none"})
    void theRegionAQueueNames(String queue, String region) {
        assertThat(QueueArns.regionOf(queue)).isEqualTo(region);
    }
}
