package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A short task on a thread of its own, or on the caller's when none can be had: never not run, never thrown. */
class SpareThreadsTest {

    @Test
    void aTask_runsOnAThreadOfItsOwn_namedAsAsked() throws Exception {
        var ranOn = new AtomicReference<Thread>();
        var ran = new CountDownLatch(1);
        Thread thread = SpareThreads.start(SpareThreads.named("ferry-test-spare"), () -> {
            ranOn.set(Thread.currentThread());
            ran.countDown();
        });
        assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(ranOn.get()).isSameAs(thread).isNotSameAs(Thread.currentThread());
        assertThat(thread.getName()).isEqualTo("ferry-test-spare");
        assertThat(thread.isDaemon()).as("never holds the JVM up").isTrue();
    }

    @Test
    void whenTheThreadCannotBeStarted_theTaskRunsHere_andTheThreadReturnedJoinsAtOnce() throws Exception {
        var ranOn = new AtomicReference<Thread>();
        Thread thread = SpareThreads.start(task -> new Thread(task) {
            @Override
            public synchronized void start() {
                throw new OutOfMemoryError("unable to create native thread");
            }
        }, () -> ranOn.set(Thread.currentThread()));
        assertThat(ranOn.get()).isSameAs(Thread.currentThread());
        assertThat(thread).as("a thread never started").isSameAs(SpareThreads.DONE);
        thread.join(5_000); // as the stop joins it (by millis: join(Duration) throws for a thread never started)
        assertThat(thread.isAlive()).isFalse();
    }

    @Test
    void aFactoryThatGivesNoThread_orThrows_stillHasTheTaskRun() {
        var runs = new java.util.concurrent.atomic.AtomicInteger();
        SpareThreads.start(task -> null, runs::incrementAndGet);
        SpareThreads.start(task -> {
            throw new IllegalStateException("pool shut down");
        }, runs::incrementAndGet);
        assertThat(runs.get()).isEqualTo(2);
    }
}
