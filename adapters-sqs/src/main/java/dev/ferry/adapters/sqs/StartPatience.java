package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.Thrown;
import dev.ferry.domain.spi.AdapterContext;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * A queue opened for a run, patiently: SQS not reachable yet (a network or a proxy not up, an endpoint restarting, the
 * credentials not there yet), throttling, or failing itself is asked again — after 1 s, doubling to 15 s — for the run's
 * {@link AdapterContext#dependencyPatience()}, not taken for a failed start: that took every route down with it, until
 * a restart. What waiting does not mend fails at once, as before: the queue does not exist, access is denied, a
 * setting is refused. A command waits for nothing (its patience is zero), nor does a run asked to stop.
 */
final class StartPatience {

    private static final Logger LOG = LoggerFactory.getLogger(StartPatience.class);
    private static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
    private static final Duration LONGEST_PAUSE = Duration.ofSeconds(15);

    private StartPatience() {
    }

    /** {@code open()}, asked again while what it throws is SQS not answering and the patience of {@code context} lasts. */
    static <T> T open(AdapterContext context, String what, Supplier<T> open) {
        long end = System.nanoTime() + Durations.nanos(context.dependencyPatience());
        var pause = FIRST_PAUSE;
        while (true) {
            try {
                return open.get();
            } catch (RuntimeException e) {
                if (!passing(e) || context.stopping() || end - System.nanoTime() < Durations.nanos(pause)) {
                    throw e;
                }
                LOG.warn("{} could not reach SQS ({}); asked again in {} (for up to {} from the start)", what,
                        Thrown.message(e), Durations.text(pause), Durations.text(context.dependencyPatience()));
                if (!waited(context, pause)) {
                    throw e;
                }
                pause = pause.multipliedBy(2).compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : pause.multipliedBy(2);
            }
        }
    }

    /** Whether {@code e} is SQS not answering, throttling, or failing itself: passing, where a refusal is not. */
    static boolean passing(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AwsServiceException || t instanceof SdkClientException) {
                var error = SqsErrors.of((RuntimeException) t);
                return error.unavailable() || error.throttled();
            }
        }
        return false;
    }

    /** Waits {@code pause}, in short steps: false when a stop is asked for meanwhile (or the thread interrupted). */
    private static boolean waited(AdapterContext context, Duration pause) {
        long until = System.nanoTime() + Durations.nanos(pause);
        while (System.nanoTime() - until < 0) {
            if (context.stopping()) {
                return false;
            }
            try {
                Thread.sleep(Math.min(100, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
