package dev.ferry.domain.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link Source} + {@link Acknowledger} keeps, push or pull: what is offered is
 * polled with its body, polls wait no longer than asked and return early when interrupted,
 * settling never throws. Queue-like sources prove more in {@link QueueContract}.
 */
public abstract class SourceContract {

    /** A source and a way to put a message into it the way its clients do. */
    public interface SourceFixture extends AutoCloseable {
        Source source();

        Acknowledger acknowledger();

        /** Offers a message; may return before it is polled (an HTTP post waits for its settlement). */
        void offer(String body);

        /**
         * Whether a message settled with {@code RELEASE} is polled again (a queue, a topic's partition), and so takes
         * {@link SourceContract}'s release test; a push source that answers its sender instead (an HTTP endpoint: "try
         * later") says false and skips it. True by default: a source that keeps its messages must not lose a release.
         */
        default boolean redeliversReleased() {
            return true;
        }

        @Override
        void close();
    }

    private final List<SourceFixture> opened = new ArrayList<>();

    protected abstract SourceFixture newFixture();

    private SourceFixture fixture() {
        var f = newFixture();
        opened.add(f);
        return f;
    }

    @AfterEach
    void closeFixtures() {
        opened.forEach(SourceFixture::close);
    }

    private static List<Delivery> pollUntil(SourceFixture f, int count) {
        var got = new ArrayList<Delivery>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (got.size() < count && System.nanoTime() < end) {
            got.addAll(poll(f, new PollRequest(10, Duration.ofSeconds(1), Duration.ofSeconds(30))));
        }
        return got;
    }

    /**
     * One poll, on a thread of its own, failing the test when it outlasts its wait by 30 s: a source whose poll ignores
     * its wait fails the contract instead of hanging the suite.
     */
    private static List<Delivery> poll(SourceFixture f, PollRequest request) {
        return Concurrently.within(request.maxWait().plusSeconds(30), "poll of " + request, () -> f.source().poll(request));
    }

    /** One settle call, bounded as a poll is. */
    private static List<Settlement.Failure> settle(SourceFixture f, List<Settlement> settlements) {
        return Concurrently.within(Duration.ofSeconds(30), "settle of " + settlements.size(),
                () -> f.acknowledger().settle(settlements));
    }

    @Test
    void offeredMessage_isPolled_withItsBody_andAckedWithoutFailure() {
        var f = fixture();
        f.offer("{\"id\":\"s-1\"}");
        var got = pollUntil(f, 1);
        assertThat(got).extracting(d -> new String(d.body(), StandardCharsets.UTF_8)).containsExactly("{\"id\":\"s-1\"}");
        assertThat(got.getFirst().source()).isEqualTo(f.source().name());
        // a first receive is 1: Delivery refuses less, and a source that says more on a first poll had its messages
        // dead-lettered before their last try (max receives), or taken for a redelivery
        assertThat(got.getFirst().receiveCount()).as("the first receive").isEqualTo(1);
        assertThat(settle(f, List.of(new Settlement(got.getFirst(), Disposition.ACK)))).isEmpty();
    }

    /**
     * A released message comes back at once, as the same message received once more: the listener releases what it
     * cannot run now (a retry held in hand too long, a shutdown) and counts on its next copy; its receive limit counts
     * by the receive count.
     */
    @Test
    void releasedMessage_isPolledAgain_withTheNextReceiveCount() {
        var f = fixture();
        org.junit.jupiter.api.Assumptions.assumeTrue(f.redeliversReleased(), "the source answers its sender instead");
        f.offer("{\"id\":\"s-2\"}");
        var got = pollUntil(f, 1);
        assertThat(got).as("polled").hasSize(1);
        assertThat(settle(f, List.of(new Settlement(got.getFirst(), Disposition.RELEASE)))).as("the release").isEmpty();
        var again = pollUntil(f, 1);
        assertThat(again).as("polled again after its release")
                .extracting(d -> new String(d.body(), StandardCharsets.UTF_8)).containsExactly("{\"id\":\"s-2\"}");
        assertThat(again.getFirst().id()).as("the same message").isEqualTo(got.getFirst().id());
        assertThat(again.getFirst().receiveCount()).as("its second receive").isEqualTo(2);
        assertThat(settle(f, List.of(new Settlement(again.getFirst(), Disposition.ACK)))).as("its ack").isEmpty();
    }

    @Test
    void poll_ofNothing_returnsEmpty_withinItsWait() {
        var f = fixture();
        long start = System.nanoTime();
        assertThat(poll(f, new PollRequest(10, Duration.ofMillis(300), Duration.ofSeconds(30)))).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void interruptedPoll_returnsEarly() throws Exception {
        var f = fixture();
        var result = new CompletableFuture<List<Delivery>>();
        // a daemon thread: one stuck in a poll that ignores its interrupt does not keep the test JVM alive; what the poll
        // throws is the test's failure, not a timeout that hides it
        var poller = Thread.ofPlatform().daemon().start(() -> {
            try {
                result.complete(f.source().poll(new PollRequest(10, Duration.ofSeconds(20), Duration.ofSeconds(30))));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        Thread.sleep(300);
        poller.interrupt();
        assertThat(result.get(5, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    void settle_ofADeliveryFromElsewhere_isAFailure_notAnException() {
        var f = fixture();
        var foreign = new Delivery("foreign", new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "elsewhere", "no receipt");
        var failures = settle(f, List.of(new Settlement(foreign, Disposition.ACK)));
        assertThat(failures).hasSize(1);
        assertThat(failures.getFirst().retryable()).isFalse();
    }
}
