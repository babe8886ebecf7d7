package dev.ferry.adapters.sqs;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.StringKey;
import dev.ferry.domain.spi.AdapterContext;
import dev.ferry.domain.spi.SinkProvider;
import dev.ferry.domain.spi.SourceProvider;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The SQS adapter's contributions to the app: the {@code sqs:} source and the {@code type: sqs}
 * sink. Their settings are {@link SqsSourceConfig} and {@link SqsSinkConfig}.
 */
@Module
public final class SqsModule {

    private SqsModule() {
    }

    @Provides
    @IntoMap
    @StringKey("sqs")
    public static SourceProvider sqsSource() {
        return SqsSourceConfig::read;
    }

    @Provides
    @IntoMap
    @StringKey("sqs")
    public static SinkProvider sqsSink() {
        return SqsSinkConfig::read;
    }

    /** One client for every SQS source and sink of a run, on the file's AWS settings. */
    static SqsClient client(AdapterContext context) {
        return SqsClients.shared(context);
    }

    /** A queue's name from its name, URL or ARN. */
    static String queueName(String queue) {
        int cut = Math.max(queue.lastIndexOf('/'), queue.lastIndexOf(':'));
        return queue.substring(cut + 1);
    }

    /**
     * The owner a queue's ARN or URL names, compared as it is written: an account's twelve digits on AWS, a folder's or
     * project's id on an SQS-compatible service whose URLs put one there. Null when it names no owner to tell queues
     * apart by: a bare name (the caller's own), ElasticMQ's {@code /queue/NAME}, and {@code 000000000000}, the default
     * account of ElasticMQ and LocalStack and never a real AWS one. ElasticMQ finds a queue by its name whatever the
     * segment, so {@code /queue/x}, {@code /000000000000/x} and {@code x} are one queue: with 000000000000 an account,
     * the check across routes took {@code /queue/x} (or {@code x}) and {@code /000000000000/x} for two. Kept to twelve
     * digits, {@code https://host/folder-A/orders} and {@code https://host/folder-B/orders} named no owner, and were one
     * queue for two sources and a loop, with no setting to tell them apart. Public for {@code queues create}.
     */
    public static String queueAccount(String queue) {
        String segment;
        if (queue.startsWith("arn:")) {
            var parts = queue.split(":", -1);
            segment = parts.length == 6 ? parts[4] : null;
        } else {
            int last = queue.lastIndexOf('/');
            int before = last <= 0 ? -1 : queue.lastIndexOf('/', last - 1);
            segment = queue.contains("://") && before >= 0 && before + 1 < last
                    && queue.indexOf("://") + 2 < before ? queue.substring(before + 1, last) : null;
        }
        return segment == null || segment.isEmpty() || segment.equals("queue") || segment.equals("000000000000")
                ? null : segment;
    }

    /**
     * Throws {@link IllegalArgumentException} when {@code queue} is an ARN or an AWS queue URL of another region than the
     * one {@code client} asks SQS in (a queue made by its name would be made in the wrong one); nothing for a name, or on
     * a server of its own. For {@code queues create}, which makes a queue by its name.
     */
    public static void refuseOtherRegion(software.amazon.awssdk.services.sqs.SqsClient client, String queue) {
        QueueArns.refuseOtherRegion(client, queue);
    }
}
