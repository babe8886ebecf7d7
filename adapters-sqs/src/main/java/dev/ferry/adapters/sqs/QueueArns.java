package dev.ferry.adapters.sqs;

import software.amazon.awssdk.services.sqs.SqsClient;

/** What a queue ARN says that a queue's name and account do not: its region. */
final class QueueArns {

    private QueueArns() {
    }

    /** On AWS itself, an ARN of another region: asked by name, the client's region's queue of that name was used. */
    static void refuseOtherRegion(SqsClient client, String arn, String region) {
        software.amazon.awssdk.services.sqs.SqsServiceClientConfiguration config;
        try {
            config = client.serviceClientConfiguration();
        } catch (UnsupportedOperationException decorated) { // a client of the user's own making: its region not known
            return;
        }
        // a server of its own (an endpoint given: ElasticMQ, LocalStack) names regions its own way
        if (config.endpointOverride().isPresent() || config.region() == null || region.isEmpty()
                || region.equals(config.region().id())) {
            return;
        }
        throw new IllegalArgumentException("the queue '" + arn + "' is in region " + region + ", and SQS is asked in "
                + config.region().id() + ": give its URL, or set the region (aws.region, AWS_REGION) to " + region);
    }
}
