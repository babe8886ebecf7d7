package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A stop signal acts before it is logged, and is logged aside: with the log's pipe blocked, the handler
 * logged first and never acted — neither the clean stop nor a second signal's exit; only a kill ended it.
 */
class StopSignalsTest {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StopSignalsTest.class);

    @Test
    void withTheLogBlocked_theFirstSignalStillAsksForTheStop_andALaterOneStillExits() throws Exception {
        var logBlocked = new CountDownLatch(1);
        // every line waits until the test ends: the log's pipe is full; the signal's thread waits for it a moment
        Consumer<Runnable> blockedLog = line -> StopSignals.aMoment(() -> {
            try {
                logBlocked.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            line.run();
        });
        var stop = new CountDownLatch(1);
        var halted = new AtomicInteger(-1);
        var signals = new StopSignals(stop, () -> false, halted::set, blockedLog, LOG);
        try {
            var first = Thread.ofVirtual().start(() -> signals.received(15));
            assertThat(stop.await(5, TimeUnit.SECONDS)).as("the stop asked for, the log line not yet written").isTrue();
            assertThat(first.join(Duration.ofSeconds(5))).as("the signal's thread free again").isTrue();

            Thread.sleep(Duration.ofNanos(StopSignals.SECOND_AFTER_NANOS).toMillis() + 200);
            var second = Thread.ofVirtual().start(() -> signals.received(2));
            assertThat(second.join(Duration.ofSeconds(5))).as("the second signal's thread returned").isTrue();
            assertThat(halted).as("halted with 128 + SIGINT, the line unsaid").hasValue(130);
        } finally {
            logBlocked.countDown();
        }
    }

    @Test
    void aSecondSignalAMomentAfterTheFirst_isTheSameOneSentTwice_notAnExit() {
        var stop = new CountDownLatch(1);
        var halted = new AtomicInteger(-1);
        var signals = new StopSignals(stop, () -> true, halted::set, Runnable::run, LOG);
        signals.received(15);
        signals.received(2); // a wrapper forwarding INT and TERM
        assertThat(stop.getCount()).isZero();
        assertThat(halted).as("not halted").hasValue(-1);
    }

    @Test // a review: the first signal's thread took "first", then noted its time; a second signal's thread in between read
          // no time (0), took it for a signal long ago, and halted — two signals at once (INT and TERM from a wrapper, each
          // on a thread of its own)
    void twoSignalsAtOnce_areTheSameOneSentTwice_neverAnExit() throws Exception {
        var halts = new AtomicInteger();
        for (int round = 0; round < 5_000 && halts.get() == 0; round++) {
            var signals = new StopSignals(new CountDownLatch(1), () -> false, status -> halts.incrementAndGet(), line -> { },
                    LOG);
            var together = new java.util.concurrent.CyclicBarrier(2);
            var other = Thread.ofPlatform().start(() -> {
                await(together);
                signals.received(2);
            });
            await(together);
            signals.received(15);
            assertThat(other.join(Duration.ofSeconds(5))).isTrue();
        }
        assertThat(halts).as("two signals at once are one stop request, not an exit").hasValue(0);
    }

    private static void await(java.util.concurrent.CyclicBarrier barrier) {
        try {
            barrier.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
