package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The in-flight window: bounded, woken by a batch's worth of room, every parked poller woken. */
@Timeout(60)
class CapacityTest {

    private static final long LONG = TimeUnit.SECONDS.toNanos(30);

    @Test
    void takesUpToWhatIsFree_andNeverMoreThanTheWindow() throws Exception {
        var window = new Capacity(10, 4, LONG);
        assertThat(window.acquire(4, LONG)).isEqualTo(4);
        assertThat(window.acquire(100, LONG)).isEqualTo(6);
        assertThat(window.used()).isEqualTo(10);
        assertThat(window.acquire(1, TimeUnit.MILLISECONDS.toNanos(20))).as("full: nothing within the timeout").isZero();
        window.release(10);
        assertThat(window.used()).isZero();
    }

    @Test
    void aFullWindow_wakesThePollerForABatch_notForEachFreedSlot() throws Exception {
        var window = new Capacity(10, 5, LONG);
        window.acquire(10, LONG);
        var poller = CompletableFuture.supplyAsync(() -> acquire(window, 5));
        window.release(1);
        assertThat(notDoneWithin(poller, 200)).as("one free slot does not wake it").isTrue();
        window.release(4);
        assertThat(poller.get(10, TimeUnit.SECONDS)).isEqualTo(5);
        assertThat(window.used()).isEqualTo(10);
    }

    @Test
    void slotsShortOfABatch_areTakenAfterThePatience() throws Exception {
        var window = new Capacity(10, 5, TimeUnit.MILLISECONDS.toNanos(50));
        window.acquire(10, LONG);
        window.release(2);
        assertThat(window.acquire(5, LONG)).isEqualTo(2);
    }

    @Test
    void everyParkedPoller_isWoken() throws Exception {
        var window = new Capacity(10, 5, LONG);
        window.acquire(10, LONG);
        var first = CompletableFuture.supplyAsync(() -> acquire(window, 5));
        var second = CompletableFuture.supplyAsync(() -> acquire(window, 5));
        Thread.sleep(100);
        window.release(10);
        assertThat(first.get(10, TimeUnit.SECONDS) + second.get(10, TimeUnit.SECONDS)).isEqualTo(10);
    }

    @Test
    void underConcurrentUse_theWindowHolds() throws Exception {
        var window = new Capacity(50, 10, TimeUnit.MILLISECONDS.toNanos(1));
        var peak = new AtomicInteger();
        var taken = new AtomicInteger();
        Runnable poller = () -> {
            for (int i = 0; i < 2_000; i++) {
                int n = acquire(window, 10);
                peak.accumulateAndGet(window.used(), Math::max);
                taken.addAndGet(n);
                for (int k = 0; k < n; k++) {
                    window.release(1);
                }
            }
        };
        var a = CompletableFuture.runAsync(poller);
        var b = CompletableFuture.runAsync(poller);
        a.get(30, TimeUnit.SECONDS);
        b.get(30, TimeUnit.SECONDS);
        assertThat(peak.get()).isLessThanOrEqualTo(50);
        assertThat(taken.get()).isGreaterThanOrEqualTo(4_000);
        assertThat(window.used()).isZero();
    }

    private static int acquire(Capacity window, int want) {
        try {
            return window.acquire(want, LONG);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean notDoneWithin(CompletableFuture<?> f, long millis) throws InterruptedException, ExecutionException {
        try {
            f.get(millis, TimeUnit.MILLISECONDS);
            return false;
        } catch (TimeoutException e) {
            return true;
        }
    }
}
