package dev.ferry.adapters.sqs;

import software.amazon.awssdk.services.sqs.SqsClient;

/** What a queue ARN or an AWS queue URL says that a queue's name and account do not: its region. */
final class QueueArns {

    private QueueArns() {
    }

    /**
     * On AWS itself, a queue of another region: asked by name, the client's region's queue of that name was used (or made,
     * by {@code queues create}); asked by URL, SQS answers from the client's region alone. Its URL does not help, and the
     * advice that said so sent the operator to a second refusal: the region to set is the whole mend.
     */
    static void refuseOtherRegion(SqsClient client, String queue) {
        String region = regionOf(queue);
        if (region == null) {
            return;
        }
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
        throw new IllegalArgumentException("the queue '" + queue + "' is in region " + region + ", and SQS is asked in "
                + config.region().id() + ": set the region (aws.region, AWS_REGION) to " + region);
    }

    /**
     * The region an ARN names, or an AWS queue URL's host: {@code sqs.<region>.amazonaws.com} (also {@code sqs-fips.},
     * {@code .amazonaws.com.cn}, {@code .api.aws}), {@code <region>.queue.amazonaws.com}, and the legacy
     * {@code queue.amazonaws.com} of us-east-1; null for a name, or a host that is not AWS's (a server of the user's own).
     */
    static String regionOf(String queue) {
        if (queue.startsWith("arn:")) {
            var parts = queue.split(":");
            return parts.length == 6 ? parts[3] : null;
        }
        if (!queue.startsWith("https://") && !queue.startsWith("http://")) {
            return null;
        }
        String host;
        try {
            host = java.net.URI.create(queue).getHost();
        } catch (IllegalArgumentException notAUrl) {
            return null;
        }
        if (host == null) {
            return null;
        }
        host = host.toLowerCase(java.util.Locale.ROOT); // hosts are caseless: SQS.EU-WEST-1.AMAZONAWS.COM slipped past
        var labels = host.split("\\.");
        boolean aws = host.endsWith(".amazonaws.com") || host.endsWith(".amazonaws.com.cn") || host.endsWith(".api.aws");
        if (!aws || labels.length < 3) {
            return null;
        }
        if (labels[0].equals("queue")) {
            return labels.length == 3 ? "us-east-1" : null; // queue.amazonaws.com
        }
        if (labels[1].equals("queue")) {
            return labels[0]; // <region>.queue.amazonaws.com
        }
        return labels[0].equals("sqs") || labels[0].equals("sqs-fips") ? labels[1] : null;
    }
}
