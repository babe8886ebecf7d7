package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.FerryException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Queue operations the app's CLI and start-up checks use: create a queue with its dead-letter queue and redrive policy,
 * describe one, set its access policy, list a DLQ's source queues, move messages from a DLQ back to a source queue without
 * loss, and warn about redrive policies that would dead-letter throttled messages. Failures are thrown as
 * {@code FerryException}. Thread-safe.
 */
public final class SqsQueues {

    private final SqsClient client;

    private SqsQueues(SqsClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    public static SqsQueues of(SqsClient client) {
        return new SqsQueues(client);
    }

    /** A queue's RedrivePolicy: after {@code maxReceiveCount} receives SQS itself moves a message to the DLQ. */
    public record RedrivePolicy(String deadLetterTargetArn, int maxReceiveCount) {
    }

    /** What Ferry needs to know about a queue ({@code redrivePolicy} null when it has none). */
    public record QueueInfo(String url, String name, String arn, boolean fifo, boolean contentBasedDeduplication,
                            Duration visibilityTimeout, RedrivePolicy redrivePolicy) {

        public Optional<RedrivePolicy> redrive() {
            return Optional.ofNullable(redrivePolicy);
        }
    }

    /**
     * A queue to create. A name ending in {@code .fifo} makes a FIFO queue (and its DLQ must be one).
     *
     * @param deadLetterQueueName null for no DLQ
     * @param maxReceiveCount     the redrive policy's count, when there is a DLQ
     */
    public record QueueSpec(String name, boolean contentBasedDeduplication, Duration visibilityTimeout,
                            Duration delay, String deadLetterQueueName, int maxReceiveCount) {

        public QueueSpec {
            requireName("name", name);
            Objects.requireNonNull(visibilityTimeout, "visibilityTimeout");
            Objects.requireNonNull(delay, "delay");
            if (visibilityTimeout.isNegative() || visibilityTimeout.toSeconds() > SqsSource.MAX_VISIBILITY_SECONDS) {
                throw new IllegalArgumentException("visibilityTimeout must be 0..12 h, was " + visibilityTimeout);
            }
            if (delay.isNegative() || delay.toSeconds() > 900) {
                throw new IllegalArgumentException("delay must be 0..15 min, was " + delay);
            }
            if (contentBasedDeduplication && !name.endsWith(".fifo")) {
                throw new IllegalArgumentException("contentBasedDeduplication needs a FIFO queue (a name ending in .fifo), was '"
                        + name + "'");
            }
            if (deadLetterQueueName != null) {
                requireName("deadLetterQueueName", deadLetterQueueName);
                if (name.endsWith(".fifo") != deadLetterQueueName.endsWith(".fifo")) {
                    throw new IllegalArgumentException("queue '" + name + "' and its DLQ '" + deadLetterQueueName
                            + "' must both be FIFO or both standard");
                }
                if (maxReceiveCount < 1 || maxReceiveCount > 1000) {
                    throw new IllegalArgumentException("maxReceiveCount must be 1..1000, was " + maxReceiveCount);
                }
            }
        }

        /**
         * A standard or FIFO queue (by its name) with a DLQ named {@code <name>-dlq} and the given max receive count; the
         * DLQ keeps messages 14 days ({@link SqsQueues#create}).
         */
        public static QueueSpec withDeadLetterQueue(String name, int maxReceiveCount) {
            String dlq = name.endsWith(".fifo") ? name.substring(0, name.length() - 5) + "-dlq.fifo" : name + "-dlq";
            return new QueueSpec(name, false, Duration.ofSeconds(30), Duration.ZERO, dlq, maxReceiveCount);
        }

        public QueueSpec contentBasedDeduplication(boolean on) {
            return new QueueSpec(name, on, visibilityTimeout, delay, deadLetterQueueName, maxReceiveCount);
        }

        public QueueSpec visibilityTimeout(Duration timeout) {
            return new QueueSpec(name, contentBasedDeduplication, timeout, delay, deadLetterQueueName, maxReceiveCount);
        }

        public QueueSpec delay(Duration queueDelay) {
            return new QueueSpec(name, contentBasedDeduplication, visibilityTimeout, queueDelay, deadLetterQueueName,
                    maxReceiveCount);
        }

        private static void requireName(String field, String value) {
            if (value == null || !value.matches("[A-Za-z0-9_-]{1,75}(\\.fifo)?")) {
                throw new IllegalArgumentException(field + " must be 1-80 characters of [A-Za-z0-9_-], "
                        + "optionally ending in .fifo, was '" + value + "'");
            }
        }
    }

    /** URLs of a created queue and of its DLQ (null when it has none). */
    public record Created(String url, String deadLetterQueueUrl) {
    }

    /**
     * A redrive's outcome: messages moved; those whose send failed, and why the first did (or that another reader held
     * some out of sight; null when neither); copies of this run that came back failing, set aside; the letters of groups
     * parked now, left for a release, and those of queues other than the target, left for them (ten of each named); about
     * how many of a standard DLQ's letters another reader (another redrive, a dry run) hid as the run ended short, a note.
     */
    public record RedriveReport(int moved, int failed, int cameBack, String problem, int parked, List<String> parkedGroups,
                                int otherQueuesLetters, List<String> otherQueues, int hiddenByAnotherReader) {

        /** A report of moved and failed messages only. */
        public RedriveReport(int moved, int failed) {
            this(moved, failed, 0, null, 0, List.of());
        }

        /** A report with no parked group's dead letter met (the shape before {@code parked} was counted). */
        public RedriveReport(int moved, int failed, int cameBack, String problem) {
            this(moved, failed, cameBack, problem, 0, List.of());
        }

        /** A report naming none of the parked groups whose dead letters stayed (the shape before they were named). */
        public RedriveReport(int moved, int failed, int cameBack, String problem, int parked) {
            this(moved, failed, cameBack, problem, parked, List.of());
        }

        /** A report with no other queue's dead letter left (the shape before they were counted). */
        public RedriveReport(int moved, int failed, int cameBack, String problem, int parked, List<String> parkedGroups) {
            this(moved, failed, cameBack, problem, parked, parkedGroups, 0, List.of());
        }

        /** A report of no letter another reader hid (the shape before they were counted). */
        public RedriveReport(int moved, int failed, int cameBack, String problem, int parked, List<String> parkedGroups,
                             int otherQueuesLetters, List<String> otherQueues) {
            this(moved, failed, cameBack, problem, parked, parkedGroups, otherQueuesLetters, otherQueues, 0);
        }
    }

    /**
     * Creates the DLQ (if any), keeping messages 14 days, the longest SQS allows, then the queue with its redrive
     * policy; creating what exists is a no-op. A DLQ that exists with other attributes (an earlier Ferry's, kept SQS's
     * default 4 days) is kept as it is, with a warning when it keeps messages less than 14 days.
     */
    public Created create(QueueSpec spec) {
        String dlqUrl = null;
        var attributes = new EnumMap<QueueAttributeName, String>(QueueAttributeName.class);
        if (spec.name().endsWith(".fifo")) {
            attributes.put(QueueAttributeName.FIFO_QUEUE, "true");
        }
        if (spec.deadLetterQueueName() != null) {
            dlqUrl = DeadLetterRetention.createQueue(client, this, spec.deadLetterQueueName(), attributes);
            String dlqArn = describe(dlqUrl).arn();
            attributes.put(QueueAttributeName.REDRIVE_POLICY,
                    "{\"deadLetterTargetArn\":\"" + dlqArn + "\",\"maxReceiveCount\":\"" + spec.maxReceiveCount() + "\"}");
        }
        if (spec.contentBasedDeduplication()) {
            attributes.put(QueueAttributeName.CONTENT_BASED_DEDUPLICATION, "true");
        }
        attributes.put(QueueAttributeName.VISIBILITY_TIMEOUT, Long.toString(spec.visibilityTimeout().toSeconds()));
        attributes.put(QueueAttributeName.DELAY_SECONDS, Long.toString(spec.delay().toSeconds()));
        return new Created(createQueue(spec.name(), attributes), dlqUrl);
    }

    private String createQueue(String name, Map<QueueAttributeName, String> attributes) {
        try {
            return client.createQueue(b -> b.queueName(name).attributes(attributes)).queueUrl();
        } catch (RuntimeException e) {
            throw SqsErrors.translate("CreateQueue", name, e);
        }
    }

    /** A queue URL from a queue URL (returned as is), an ARN, or a queue name. */
    public String url(String queue) {
        if (queue.startsWith("http://") || queue.startsWith("https://")) {
            QueueArns.refuseOtherRegion(client, queue); // SQS answers from the client's region alone
            return queue;
        }
        String name = queue;
        String owner = null;
        if (queue.startsWith("arn:")) {
            var parts = queue.split(":");
            if (parts.length != 6) {
                throw new IllegalArgumentException("not an SQS queue ARN: '" + queue + "'");
            }
            owner = parts[4];
            name = parts[5];
            QueueArns.refuseOtherRegion(client, queue);
        }
        String queueName = name;
        String account = owner;
        try {
            return client.getQueueUrl(b -> b.queueName(queueName).queueOwnerAWSAccountId(account)
                    .overrideConfiguration(SqsTimeouts.CALLS)).queueUrl(); // an endpoint that never answers: 30 s, not 2 min
        } catch (RuntimeException e) {
            throw SqsErrors.translate("GetQueueUrl", queue, e);
        }
    }

    public QueueInfo describe(String queueUrl) {
        Map<QueueAttributeName, String> a;
        try {
            a = client.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.ALL)
                    .overrideConfiguration(SqsTimeouts.CALLS)).attributes();
        } catch (RuntimeException e) {
            throw SqsErrors.translate("GetQueueAttributes", queueUrl, e);
        }
        String arn = a.getOrDefault(QueueAttributeName.QUEUE_ARN, "");
        String name = queueUrl.substring(queueUrl.lastIndexOf('/') + 1);
        return new QueueInfo(queueUrl, name, arn,
                Boolean.parseBoolean(a.get(QueueAttributeName.FIFO_QUEUE)) || name.endsWith(".fifo"),
                Boolean.parseBoolean(a.get(QueueAttributeName.CONTENT_BASED_DEDUPLICATION)),
                Duration.ofSeconds(Long.parseLong(a.getOrDefault(QueueAttributeName.VISIBILITY_TIMEOUT, "30"))),
                parseRedrivePolicy(a.get(QueueAttributeName.REDRIVE_POLICY)));
    }

    static RedrivePolicy parseRedrivePolicy(String json) {
        return RedrivePolicies.parse(json);
    }

    /** Sets the queue's access policy document (SetQueueAttributes Policy). */
    public void setPolicy(String queueUrl, String policyJson) {
        try {
            client.setQueueAttributes(b -> b.queueUrl(queueUrl).attributes(Map.of(QueueAttributeName.POLICY, policyJson)));
        } catch (RuntimeException e) {
            throw SqsErrors.translate("SetQueueAttributes", queueUrl, e);
        }
    }

    /** The policy Mechanical Turk needs to notify a queue: only the MTurk service may SendMessage, only over TLS. */
    public static String mturkSendPolicy(String queueArn) {
        return "{\"Version\":\"2012-10-17\",\"Id\":\"" + queueArn + "/MTurkOnlyPolicy\",\"Statement\":[{"
                + "\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"mturk-requester.amazonaws.com\"},"
                + "\"Action\":\"SQS:SendMessage\",\"Resource\":\"" + queueArn + "\","
                + "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"true\"}}}]}";
    }

    /** URLs of the queues whose redrive policy names this DLQ. */
    public List<String> deadLetterSourceQueues(String deadLetterQueueUrl) {
        try {
            var urls = new ArrayList<String>();
            client.listDeadLetterSourceQueuesPaginator(b -> b.queueUrl(deadLetterQueueUrl))
                    .forEach(page -> urls.addAll(page.queueUrls()));
            return urls;
        } catch (RuntimeException e) {
            throw SqsErrors.translate("ListDeadLetterSourceQueues", deadLetterQueueUrl, e);
        }
    }

    /**
     * Moves up to {@code maxMessages} messages from a DLQ back to {@code targetUrl}: each is copied (Ferry's dead-letter
     * attributes removed), the copy confirmed, and only then deleted from the DLQ. A FIFO target gets the original group
     * and a deduplication id derived from the DLQ message id, so a redrive interrupted between copy and delete does not
     * duplicate when run again within five minutes. A message whose copy failed is made visible in the DLQ again.
     */
    public RedriveReport redrive(String deadLetterQueueUrl, String targetUrl, int maxMessages) {
        return redrive(deadLetterQueueUrl, targetUrl, maxMessages, 0, (moved, failed) -> { });
    }

    /** Told after each batch of a redrive how many messages have been moved and how many stayed behind so far. */
    @FunctionalInterface
    public interface RedriveProgress {
        void update(int moved, int failed);

        /**
         * Asked before each receive and while a paced redrive waits (nothing in hand then): true ends it there,
         * {@link #update} told once more — a slow rate's wait (0.001: 1,000 s) or set-aside copies only, ended early.
         */
        default boolean stopping() {
            return false;
        }
    }

    /**
     * {@link #redrive(String, String, int)} at most {@code perSecond} messages a second (0: as fast as
     * SQS goes), telling {@code progress} after every batch; every parked group's dead letter is left in place.
     */
    public RedriveReport redrive(String deadLetterQueueUrl, String targetUrl, int maxMessages, double perSecond,
                                 RedriveProgress progress) {
        return redrive(deadLetterQueueUrl, targetUrl, maxMessages, perSecond, progress, ParkedNow.ALWAYS);
    }

    /** As above, leaving in place only the letters of groups parked now: {@code parkedNow}(source queue or null, group). */
    public RedriveReport redrive(String deadLetterQueueUrl, String targetUrl, int maxMessages, double perSecond,
                                 RedriveProgress progress, java.util.function.BiPredicate<String, String> parkedNow) {
        return redrive(deadLetterQueueUrl, targetUrl, maxMessages, perSecond, progress, parkedNow, false);
    }

    /** As above; {@code otherQueuesToo}: the letters of queues other than the target move too ({@link OtherQueuesLetters}). */
    public RedriveReport redrive(String deadLetterQueueUrl, String targetUrl, int maxMessages, double perSecond,
                                 RedriveProgress progress, java.util.function.BiPredicate<String, String> parkedNow,
                                 boolean otherQueuesToo) {
        return DeadLetterRedrive.run(client, this, deadLetterQueueUrl, targetUrl, maxMessages, perSecond, progress, parkedNow,
                otherQueuesToo);
    }

    /** What {@link #otherQueuesLetters} read: of {@code read}, {@code left} of other queues (ten named); put-back failures. */
    public record LettersRead(int read, int left, List<String> queues, boolean whole, int notPutBack, String putBackError) {
    }

    /** Reads up to {@code atMost} of a DLQ's letters to count those a redrive to {@code targetUrl} leaves for other queues. */
    public LettersRead otherQueuesLetters(String deadLetterQueueUrl, String targetUrl, int atMost) {
        return OtherQueuesLetters.count(client, deadLetterQueueUrl, targetUrl, atMost);
    }

    /** How many messages the queue holds, visible or in flight (SQS's approximate counts). */
    public long approximateMessages(String queueUrl) {
        Map<QueueAttributeName, String> a;
        try {
            a = client.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
        } catch (RuntimeException e) {
            throw SqsErrors.translate("GetQueueAttributes", queueUrl, e);
        }
        return Long.parseLong(a.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, "0"))
                + Long.parseLong(a.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE, "0"));
    }

    /** The state of one of SQS's own message move tasks. */
    public record MoveTask(String handle, String status, long moved, long toMove, String failureReason, long startedAt) {
        public boolean finished() {
            return !"RUNNING".equals(status) && !"CANCELLING".equals(status);
        }
    }

    /**
     * Starts SQS's own message move task from a DLQ back to {@code targetArn} (null: to the queues the
     * messages came from) at up to {@code perSecond} messages a second (0: SQS's pace); returns its handle.
     */
    public String startMoveTask(String deadLetterQueueArn, String targetArn, int perSecond) {
        try {
            return client.startMessageMoveTask(b -> {
                b.sourceArn(deadLetterQueueArn).destinationArn(targetArn);
                if (perSecond > 0) {
                    b.maxNumberOfMessagesPerSecond(perSecond);
                }
            }).taskHandle();
        } catch (RuntimeException e) {
            throw SqsErrors.translate("StartMessageMoveTask", deadLetterQueueArn, e);
        }
    }

    /**
     * Cancels a running message move task: what it moved stays moved, the rest stays in the DLQ. Returns about how
     * many it had moved, by SQS's count.
     */
    public long cancelMoveTask(String handle) {
        try {
            Long moved = client.cancelMessageMoveTask(b -> b.taskHandle(handle)).approximateNumberOfMessagesMoved();
            return moved == null ? 0 : moved;
        } catch (RuntimeException e) {
            throw SqsErrors.translate("CancelMessageMoveTask", handle, e);
        }
    }

    /** The most recent message move task of a DLQ, if it ever had one. */
    public Optional<MoveTask> latestMoveTask(String deadLetterQueueArn) {
        return moveTasks(deadLetterQueueArn).stream().findFirst();
    }

    /** A DLQ's latest move tasks, newest first, 10 at most: the newest alone may be one started after ours. */
    public List<MoveTask> moveTasks(String deadLetterQueueArn) {
        try {
            return client.listMessageMoveTasks(b -> b.sourceArn(deadLetterQueueArn).maxResults(10)).results().stream()
                    .map(t -> new MoveTask(t.taskHandle(), t.status(),
                            t.approximateNumberOfMessagesMoved() == null ? 0 : t.approximateNumberOfMessagesMoved(),
                            t.approximateNumberOfMessagesToMove() == null ? -1 : t.approximateNumberOfMessagesToMove(),
                            t.failureReason(), t.startedTimestamp() == null ? 0 : t.startedTimestamp())).toList();
        } catch (RuntimeException e) {
            throw SqsErrors.translate("ListMessageMoveTasks", deadLetterQueueArn, e);
        }
    }

    /**
     * A warning when the queue's own redrive policy would move a message to its DLQ after fewer
     * receives than throttling can cause: SQS counts every receive, throttled or not, while Ferry
     * dead-letters from its own count of real failures. Empty when the queue is safe.
     */
    public Optional<String> throttleWarning(String queueUrl, int ferryMaxReceives) {
        return ThrottleWarnings.of(describe(queueUrl), ferryMaxReceives);
    }

    /**
     * What releases a parked group of the FIFO queue {@code queueUrl}: its parked messages moved from
     * the FIFO dead-letter queue {@code deadLetterQueueUrl} back to it, in order, copy then delete.
     */
    public dev.ferry.domain.parking.GroupParker.Mover parkedGroupMover(String deadLetterQueueUrl, String queueUrl) {
        return new ParkedGroupMover(client, deadLetterQueueUrl, queueUrl);
    }
}
