package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Copies of refused messages beside the polls: at most two at once, and never a place lost to a copy not started. */
class RefusedCopiesTest {

    @Test // an executor with no thread to be had threw an OutOfMemoryError: the place was never given back, and after two
          // such the source never copied a refused message again (each cycled visible and invisible until a restart)
    void aCopyTheExecutorCannotStart_runsHere_andGivesItsPlaceBack() {
        Executor noThreads = task -> {
            throw new OutOfMemoryError("unable to create native thread");
        };
        var copies = new RefusedCopies(noThreads, 2);
        var copied = new AtomicInteger();

        for (int i = 0; i < 5; i++) {
            assertThat(copies.start(copied::incrementAndGet)).as("copy %d started", i).isTrue();
        }

        assertThat(copied).as("every copy made, on the poll's thread").hasValue(5);
    }

    @Test
    void aCopyRefusedByAClosingExecutor_runsHere() {
        var copies = new RefusedCopies(task -> {
            throw new RejectedExecutionException("closing");
        }, 2);
        var copied = new AtomicInteger();

        assertThat(copies.start(copied::incrementAndGet)).isTrue();
        assertThat(copies.start(copied::incrementAndGet)).isTrue();
        assertThat(copies.start(copied::incrementAndGet)).isTrue();

        assertThat(copied).hasValue(3);
    }

    @Test
    void pastTheLimit_aCopyIsLeftForALaterReceive_untilOneEnds() {
        var held = new ArrayList<Runnable>();
        var copies = new RefusedCopies(held::add, 2);
        var copied = new AtomicInteger();

        assertThat(copies.start(copied::incrementAndGet)).isTrue();
        assertThat(copies.start(copied::incrementAndGet)).isTrue();
        assertThat(copies.start(copied::incrementAndGet)).as("a third while two run").isFalse();
        assertThat(copied).as("none run on this thread").hasValue(0);

        held.getFirst().run();
        assertThat(copies.start(copied::incrementAndGet)).as("once one ended").isTrue();
        assertThat(copied).hasValue(1);
        assertThat(held).hasSize(3);
    }

    @Test // a copy that throws still gives its place back
    void aCopyThatThrows_givesItsPlaceBack() {
        var held = new ArrayList<Runnable>();
        var copies = new RefusedCopies(held::add, 1);
        copies.start(() -> {
            throw new IllegalStateException("the DLQ refused it");
        });
        try {
            held.getFirst().run();
        } catch (IllegalStateException expected) {
            // the executor's to log
        }
        assertThat(copies.start(() -> { })).isTrue();
    }
}
