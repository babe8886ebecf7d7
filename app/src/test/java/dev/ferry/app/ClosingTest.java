package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ClosingTest {

    @Test
    void sources_closeTogether_notInTurn_andOneThatThrows_doesNotStopTheOthers() {
        // each close waits until the other two are closing too: closed in turn, none would get there
        var allClosing = new CountDownLatch(3);
        var closed = new AtomicInteger();
        AutoCloseable waitsForTheOthers = () -> {
            allClosing.countDown();
            if (allClosing.await(10, TimeUnit.SECONDS)) {
                closed.incrementAndGet();
            }
        };
        AutoCloseable throwsAnError = () -> {
            allClosing.countDown();
            allClosing.await(10, TimeUnit.SECONDS);
            throw new AssertionError("an Error from a close");
        };
        Closing.inParallel(List.of(waitsForTheOthers, throwsAnError, waitsForTheOthers), Duration.ofSeconds(20));
        assertThat(closed.get()).isEqualTo(2);
    }

    @Test
    void aCloseThatHangs_isLeftBehind_afterTheBound() {
        var release = new CountDownLatch(1);
        var closed = new AtomicInteger();
        AutoCloseable hangs = release::await;
        AutoCloseable quick = closed::incrementAndGet;
        try {
            Closing.inParallel(List.of(hangs, quick), Duration.ofMillis(200));
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(5), () -> closed.get() == 1)).isTrue();
            assertThat(release.getCount()).as("returned while the hanging close still waits").isEqualTo(1);
        } finally {
            release.countDown();
        }
    }
}
