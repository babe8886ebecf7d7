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
     * The account that owns the queue, when its ARN or URL names one (twelve digits); null for a bare name (the caller's
     * own) and for ElasticMQ's {@code /queue/NAME}, which names none (ElasticMQ finds a queue by its name, whatever the
     * segment). The segment was taken as it was: "queue" was an account, so {@code /queue/x} and {@code /000000000000/x},
     * one queue, were two queues to every check of the config but the one across routes, which kept a twelve-digit test
     * of its own (as {@code queues create} did). Public for {@code queues create}, which reads the caller's account from
     * a queue URL.
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
        return segment != null && segment.length() == 12 && segment.chars().allMatch(c -> c >= '0' && c <= '9')
                ? segment : null;
    }
}
