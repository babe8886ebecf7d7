package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsModule;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSinkConfig;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.model.Thrown;
import dev.ferry.domain.routing.EventMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.sqs.SqsClient;

/** What the configuration's sections become for a run: route matchers, decoders, the queues to make, span names. */
final class ConfigParts {

    private ConfigParts() {
    }

    /** OpenTelemetry's {@code messaging.system} for a transport or sink type. */
    /**
     * The engine's settings of the file's {@code listener} section. A file {@code ferry validate} passed must build:
     * an {@code extend-every} under a millisecond was 0 of the lease here, refused at {@code ferry run}.
     */
    static dev.ferry.domain.listener.ListenerConfig.Builder listenerConfig(FerryConfig config) {
        var l = config.listener();
        var built = dev.ferry.domain.listener.ListenerConfig.builder().pollers(l.pollers()).concurrency(l.concurrency())
                .lease(l.lease()).extendAt((double) l.extendEvery().toNanos() / l.lease().toNanos())
                .extendLeases(l.extendLeases())
                .deadLetter(dev.ferry.domain.retry.DeadLetterPolicy.maxReceives(l.maxReceives()))
                .retry(dev.ferry.domain.retry.RetryPolicy.of(l.maxAttempts(), dev.ferry.domain.retry.RetryPolicy.defaults().backoff()))
                .completedTtl(config.ledger().ttl())
                .shutdownDeadline(l.shutdownDeadline()).holdLimit(l.holdLimit())
                .handlerTimeout(l.handlerTimeout());
        if (l.maxInFlight() > 0) {
            built.maxInFlight(l.maxInFlight());
        }
        return built;
    }

    static String system(String type) {
        return switch (type == null ? "" : type) {
            case "sqs" -> "aws_sqs";
            case "kafka" -> "kafka";
            case "http" -> "http";
            default -> "ferry";
        };
    }

    static EventMatcher matcher(FerryConfig.RouteSpec r) {
        EventMatcher m = r.type() != null ? EventMatcher.type(r.type())
                : r.typePrefix() != null ? EventMatcher.typePrefix(r.typePrefix())
                : !r.types().isEmpty() ? EventMatcher.typeIn(Set.copyOf(r.types())) : EventMatcher.any();
        if (!r.notTypes().isEmpty()) {
            m = m.and(EventMatcher.typeIn(Set.copyOf(r.notTypes())).negate());
        }
        for (var a : r.attributes().entrySet()) {
            m = m.and(EventMatcher.attribute(a.getKey(), a.getValue()));
        }
        return m;
    }

    static Decoder decoder(FerryConfig.SourceSpec spec) {
        var limits = JsonLimits.defaults();
        if (spec.plan() instanceof dev.ferry.adapters.http.HttpSourceConfig http) {
            // the body the source takes, the decoder reads: with its own 1 MiB it answered every larger one 422, malformed
            limits = reading(limits, http.maxBodyBytes());
        } else if (spec.plan() instanceof dev.ferry.adapters.kafka.KafkaSourceConfig) {
            // what a topic holds (a Ferry Kafka sink writes up to this): with 1 MiB, every larger record was a poison
            // dead-lettered unhandled, its key parked behind it under on-poison: park, and released only to fail again
            limits = reading(limits, dev.ferry.adapters.kafka.KafkaSourceConfig.MAX_RECORD_BYTES);
        }
        if (spec.json() != null) {
            var p = spec.json();
            return Codecs.json(limits, p.id(), p.type(), p.group(), p.time(), p.defaultType());
        }
        return Codecs.named(spec.format(), limits);
    }

    /** {@code limits} reading bodies up to {@code bytes}, a string in them as long, less a little (one base64 field). */
    private static JsonLimits reading(JsonLimits limits, int bytes) {
        return bytes <= limits.maxBodyBytes() ? limits : new JsonLimits(bytes, limits.maxDepth(),
                Math.max(limits.maxStringLength(), bytes - 1024), limits.maxNumberLength());
    }

    /** What {@link #createQueues} made, and a line for each queue it refused (another account's), none made for it. */
    record MadeQueues(List<SqsQueues.Created> created, List<String> refused, List<String> elsewhere) {
    }

    /** An SQS queue of the config to make: who names it, as it is named, the account its URL or ARN names (or null). */
    private record Wanted(String by, String queue, String account, SqsQueues.QueueSpec spec) {
    }

    /**
     * The config's SQS queues as {@code ferry queues create} makes them, each with a DLQ; what exists is kept. A queue
     * whose URL or ARN names another account than the one these credentials create in is refused, nothing made for it:
     * CreateQueue takes a name alone, so it made a look-alike and its DLQ here and printed that URL, exit 0, while
     * {@code run} read the other account's queue, which had no DLQ of Ferry's. The caller's account is the one the URL
     * of a queue made here or listed here shows; when neither tells it, the queue is made, then weighed (said, exit 2).
     */
    static MadeQueues createQueues(SqsClient client, SqsQueues queues, FerryConfig config) {
        var wanted = new ArrayList<Wanted>();
        config.sources().forEach((name, source) -> {
            if (source.plan() instanceof SqsSourceConfig sqs) {
                wanted.add(new Wanted("source '" + name + "'", sqs.queue(), sqs.queueAccount(), sqs.queueSpec()));
            }
        });
        config.sinks().forEach((name, sink) -> {
            if (sink.plan() instanceof SqsSinkConfig sqs) {
                wanted.add(new Wanted("sink '" + name + "'", sqs.queue(), sqs.queueAccount(), sqs.queueSpec()));
            }
        });
        // the queues given by name alone first (a stable sort): their URLs show the caller's account before one whose URL
        // or ARN names an account is weighed against it
        wanted.sort(java.util.Comparator.comparing((Wanted w) -> w.account() != null));
        var created = new ArrayList<SqsQueues.Created>();
        var refused = new ArrayList<String>();
        var elsewhere = new ArrayList<String>();
        String caller = null;
        boolean listed = false;
        for (var w : wanted) {
            if (w.account() != null && caller == null && !listed) {
                caller = listedAccount(client);
                listed = true;
            }
            if (w.account() != null && (caller == null || !w.account().equals(caller))) {
                boolean there;
                try {
                    there = answers(client, queues, w);
                } catch (IllegalArgumentException e) {
                    // the setting refused before SQS was asked (an ARN of another region): failed as "SQS could not be
                    // asked, run the command again", exit 1 on every run, the queues after it never tried and those
                    // made never printed. A refusal of this queue, as another account's is
                    refused.add(w.by() + ": " + Printable.of(e.getMessage()) + "; nothing created for it");
                    continue;
                }
                if (there) {
                    // a partner's queue that is there (with its own DLQ): nothing to make, and nothing wrong — refused, a
                    // config reading or writing one failed `queues create` on every run, a deploy's `&& ferry run` never ran
                    elsewhere.add(w.by() + ": queue " + Printable.of(w.queue()) + " of account " + Printable.of(w.account())
                            + (caller == null ? " is there (whose it is these credentials cannot tell: they list no queue)"
                            : " is there") + ": not made here");
                    continue;
                }
            }
            if (w.account() != null && caller != null && !w.account().equals(caller)) {
                refused.add(refusal(w, caller));
                continue;
            }
            try { // the caller's own ARN of another region: made by its name in this one, exit 0, and `run` refused it
                SqsModule.refuseOtherRegion(client, w.queue());
            } catch (IllegalArgumentException e) {
                refused.add(w.by() + ": " + Printable.of(e.getMessage()) + "; nothing created for it");
                continue;
            }
            // the caller's account not told (nothing listed, or no right to list): made, then weighed. Refused unmade,
            // a fresh account's own queues named by their URLs were all refused
            var made = queues.create(w.spec());
            created.add(made);
            caller = caller != null ? caller : callerAccount(made.url());
            if (w.account() != null && caller != null && !w.account().equals(caller)) {
                refused.add(w.by() + ": queue " + Printable.of(w.queue()) + " belongs to account "
                        + Printable.of(w.account()) + ", but these credentials made " + Printable.of(made.url())
                        + " in account " + Printable.of(caller) + " (they listed no queue to tell it by first): that is "
                        + "not the queue the config reads; delete it if it is not wanted, and make the queue and its DLQ "
                        + "in account " + Printable.of(w.account()));
            }
        }
        return new MadeQueues(created, refused, elsewhere);
    }

    /** Why a queue of another account was not made here, and where to make it. */
    private static String refusal(Wanted w, String caller) {
        String account = Printable.of(w.account());
        return w.by() + ": queue " + Printable.of(w.queue()) + " belongs to account " + account + ", not to "
                + Printable.of(caller) + ", the account these credentials create queues in: nothing created for it; "
                + "make it, and its DLQ, in account " + account;
    }

    /** The caller's account as the URL of a queue of theirs shows it; null when they list none or may not list. */
    private static String listedAccount(SqsClient client) {
        try {
            return client.listQueues().queueUrls().stream().findFirst().map(ConfigParts::callerAccount).orElse(null);
        } catch (RuntimeException e) { // a role that may create but not list: not known, told by what is made
            return null;
        }
    }

    /**
     * The caller's account as the URL of a queue of theirs (listed, or made) shows it: the segment before the name, as
     * {@link SqsModule#queueAccount} compares it, but ElasticMQ's and LocalStack's {@code 000000000000} kept — there
     * it is the caller's account. Read as none, ElasticMQ's made {@code /000000000000/orders} told nothing, and a queue
     * of account 123456789012 was made there as a look-alike, exit 0. Null for none, and ElasticMQ's {@code /queue/}.
     */
    private static String callerAccount(String url) {
        String account = SqsModule.queueAccount(url);
        boolean emulatorsDefault = url.substring(0, url.lastIndexOf('/') + 1).endsWith("/000000000000/");
        return account != null ? account : emulatorsDefault ? "000000000000" : null;
    }

    /**
     * Whether the queue {@code w} names answers at its own URL (made already, in its account); false only when SQS
     * said no. Every failure was taken for a no: SQS throttling, or failing (5xx) until the SDK's retries ran out,
     * refused a partner's queue that was there — "make it, and its DLQ, in account P", exit 2. SQS said nothing of the
     * queue then: the command fails saying so (exit 1), and run again, asks again. An {@code IllegalArgumentException}
     * of the URL's reading (an ARN of another region) is the setting's refusal, not SQS's silence: thrown as it is.
     */
    private static boolean answers(SqsClient client, SqsQueues queues, Wanted w) {
        String url;
        try {
            url = queues.url(w.queue());
        } catch (IllegalArgumentException e) {
            throw e; // refused before SQS was asked: run again, refused again
        } catch (RuntimeException e) {
            return falseWhenSaidNo(w, e);
        }
        try {
            client.getQueueAttributes(b -> b.queueUrl(url).attributeNamesWithStrings("QueueArn"));
            return true;
        } catch (RuntimeException e) {
            return falseWhenSaidNo(w, e);
        }
    }

    /** False when SQS said no to a call of {@code w}'s (not there, or not ours to read: weighed as before); else throws. */
    private static boolean falseWhenSaidNo(Wanted w, RuntimeException e) {
        if (saidNo(e)) {
            return false;
        }
        throw new FerryException(w.by() + ": SQS could not be asked whether queue " + Printable.of(w.queue())
                + " of account " + Printable.of(w.account()) + " is there (" + Printable.of(Thrown.message(e))
                + "); nothing was made or refused for it: run the command again", e, true);
    }

    /**
     * Whether SQS answered a call with a refusal it would give again: a 4xx that is not throttling (the queue is not
     * there, or not the caller's to read). Not reached (an {@code SdkClientException}), throttled, failing itself
     * (5xx), or no answer of SQS's at all (an interceptor's exception): not a no. (An ARN of another region, refused
     * before asking, is neither: {@link #answers} throws it on, a refusal of the queue.) {@link SqsQueues#url} hands
     * the SDK's exception on inside Ferry's, whose {@code retryable()} is no guide here: it counts AccessDenied
     * retryable (not a message's fault), and that is a no.
     */
    private static boolean saidNo(RuntimeException e) {
        Throwable failure = e instanceof FerryException && e.getCause() != null ? e.getCause() : e;
        if (!(failure instanceof AwsServiceException answer)) {
            return false;
        }
        var details = answer.awsErrorDetails();
        String code = details == null || details.errorCode() == null ? "" : details.errorCode();
        // SQS's own throttling codes (RequestThrottled, KmsThrottled, their AWS.SimpleQueueService. forms) with a 400
        return answer.statusCode() >= 400 && answer.statusCode() < 500 && answer.statusCode() != 429
                && !answer.isThrottlingException() && !answer.retryable() && !code.contains("Throttl");
    }
}
