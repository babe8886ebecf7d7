package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.testing.Await;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Lines that came while a write was under way were dropped unseen: two handlers past their timeout in
 * one round logged one stack, a burst of refused acknowledgements one warning.
 */
class AsideLogTest {

    @Test
    void linesThatComeWhileTheLogBlocks_waitTheirTurnInOrder_andThoseBeyondTheBoundAreCounted() throws Exception {
        var log = new AsideLog("test-aside");
        var written = new CopyOnWriteArrayList<Integer>();
        var blocked = new CountDownLatch(1);
        var unblock = new CountDownLatch(1);
        try (var captured = new CapturedLog()) {
            var warnings = captured.lines;
            log.write(() -> {
                blocked.countDown();
                try {
                    unblock.await(10, TimeUnit.SECONDS); // stdout backed up
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                written.add(0);
            });
            assertThat(blocked.await(10, TimeUnit.SECONDS)).isTrue();
            int extra = 36;
            for (int i = 1; i <= AsideLog.MAX_WAITING + extra; i++) {
                int n = i;
                log.write(() -> written.add(n));
            }
            assertThat(written).as("nothing written while the log blocks").isEmpty();
            unblock.countDown();

            assertThat(Await.until(Duration.ofSeconds(10), () -> written.size() == 1 + AsideLog.MAX_WAITING
                    && !warnings.isEmpty())).as(written.size() + " " + warnings).isTrue();
            assertThat(written.subList(0, 4)).containsExactly(0, 1, 2, 3);
            assertThat(written).isSorted().doesNotHaveDuplicates();
            assertThat(warnings).singleElement().asString().contains(extra + " log line(s) of test-aside dropped");

            log.write(() -> written.add(-1)); // the log takes lines again: written at once
            assertThat(Await.until(Duration.ofSeconds(10), () -> written.contains(-1))).isTrue();
            assertThat(warnings).hasSize(1);
        } finally {
            unblock.countDown();
        }
    }
}
