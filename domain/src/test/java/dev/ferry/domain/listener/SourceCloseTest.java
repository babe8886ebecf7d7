package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Source;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The close of a source the listener owns: once, and never holding a stop's report for as long as a plugin hangs. */
class SourceCloseTest {

    /** A plugin's source whose close waits on its client until {@link #back} opens. */
    private static final class HangingClose implements Source {
        final CountDownLatch back = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);

        @Override
        public String name() {
            return "hanging";
        }

        @Override
        public List<Delivery> poll(PollRequest request) {
            return List.of();
        }

        @Override
        public void close() {
            try {
                back.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            closed.countDown();
        }
    }

    @Test // a review of the fix: a listener's close() waited for a hung close three times over (before the report, after
          // it, and its own), the bound each time
    void everyWaitForAHungClose_endsOnceItsBoundFromTheStartHasPassed() throws Exception {
        var source = new HangingClose();
        var close = new SourceClose("orders", source, Duration.ofSeconds(1));
        try {
            long began = System.nanoTime();
            CompletableFuture.runAsync(close::closeWithinBound).get(5, TimeUnit.SECONDS);
            CompletableFuture.runAsync(close::close).get(5, TimeUnit.SECONDS); // after the report
            CompletableFuture.runAsync(close::close).get(5, TimeUnit.SECONDS); // close()'s own
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("the bound once, not three times")
                    .isLessThan(Duration.ofMillis(2_500)); // three times over: 3 s or more
            assertThat(source.closed.getCount()).as("still closing").isEqualTo(1);
        } finally {
            source.back.countDown();
        }
    }

    @Test // a review: asked on the listener's own thread, the stop closed its source before publishing its report, without
          // a bound: a close that hung held every other stop() (a shutdown hook's: the JVM never ended)
    void theCloseBeforeAStopsReport_isWaitedForAWhile_thenGoesOnWithoutItsCaller() throws Exception {
        var source = new HangingClose();
        var close = new SourceClose("orders", source);
        try {
            var within = CompletableFuture.runAsync(() -> close.closeWithin(Duration.ofMillis(200)));
            within.get(5, TimeUnit.SECONDS); // returned, the source still closing
            assertThat(source.closed.getCount()).as("still closing").isEqualTo(1);
        } finally {
            source.back.countDown();
        }
        assertThat(source.closed.await(5, TimeUnit.SECONDS)).as("the close went on, and ended").isTrue();
        var second = CompletableFuture.runAsync(close::close);
        second.get(5, TimeUnit.SECONDS); // closed once: a later close returns at once
        assertThat(source.closed.getCount()).isZero();
    }

    @Test // the last look at the thirty-seventh round: where no thread could be had for the close (a process at its
          // native-thread limit, often the moment it is stopped), closeWithin threw and the stop published no report
    void whenNoThreadCanBeHad_theCloseIsMadeOnTheCallersThread() throws Exception {
        var source = new HangingClose();
        source.back.countDown(); // this close does not hang
        var close = new SourceClose("orders", source, Duration.ofSeconds(1), task -> {
            throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits reached");
        });
        CompletableFuture.runAsync(() -> close.closeWithin(Duration.ofMillis(200))).get(5, TimeUnit.SECONDS); // not thrown
        assertThat(source.closed.getCount()).as("closed before closeWithin returned").isZero();
    }
}
