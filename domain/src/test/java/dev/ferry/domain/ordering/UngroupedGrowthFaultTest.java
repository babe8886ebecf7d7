package dev.ferry.domain.ordering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ungrouped items' deque failing to grow (no memory). The JDK's {@link ArrayDeque} stores an item and moves its end
 * before it grows: a growth that threw left it reading empty with every slot full, every ungrouped item waiting in it
 * stranded — never run, never released, not even by a stop. Such a growth cannot be forced here: the stand-in stores the
 * item as the JDK's does, then throws. Not taken back, the item stayed queued though its caller was told it was not —
 * released (by {@code submitAll}, or by the caller of {@code resume}), and run as well.
 */
class UngroupedGrowthFaultTest {

    /** An ArrayDeque that stores {@link #failOn}, as the JDK's does, then fails to grow, once. */
    private static final class GrowthFailsOnce extends ArrayDeque<String> {
        volatile String failOn;

        @Override
        public void addLast(String item) {
            super.addLast(item);
            failIfOn(item);
        }

        @Override
        public void addFirst(String item) {
            super.addFirst(item);
            failIfOn(item);
        }

        private void failIfOn(String item) {
            if (item.equals(failOn)) {
                failOn = null;
                throw new OutOfMemoryError("Java heap space (injected: the ungrouped deque growing)");
            }
        }
    }

    /** The runners the groups start, not run until a test runs them: what is queued stays queued meanwhile. */
    private final List<Runnable> runners = new ArrayList<>();
    private final List<String> processed = new CopyOnWriteArrayList<>();
    private final List<String> released = new CopyOnWriteArrayList<>();
    private final OrderingGroups<String> groups = new OrderingGroups<String>(runners::add, 4, new OrderingGroups.Worker<>() {
        @Override
        public boolean process(String item) {
            processed.add(item);
            return true;
        }

        @Override
        public void release(String item) {
            released.add(item);
        }
    });
    private final GrowthFailsOnce unordered = new GrowthFailsOnce();

    @BeforeEach
    void ungroupedItemsGoIntoADequeThatFailsToGrow() throws ReflectiveOperationException {
        var field = OrderingGroups.class.getDeclaredField("unordered");
        field.setAccessible(true);
        field.set(groups, unordered);
    }

    /** Runs the runners started so far, on this thread: each runs what is queued until nothing is. */
    private void runTheRunners() {
        var started = List.copyOf(runners);
        runners.clear();
        started.forEach(Runnable::run);
    }

    @Test
    void anUngroupedItemTheDequeCouldNotTake_isReleasedNotLeftQueued_thoseBeforeItRun() {
        groups.submitAll(List.of("a", "b"), item -> null);
        unordered.failOn = "x";

        assertThatThrownBy(() -> groups.submitAll(List.of("c", "x", "d"), item -> null))
                .as("told to the caller").isInstanceOf(OutOfMemoryError.class);
        assertThat(released).as("it and those after it released").containsExactly("x", "d");
        assertThat(groups.waiting()).as("those queued before it").isEqualTo(3);

        runTheRunners();
        assertThat(processed).as("run in order, the one released not run as well").containsExactly("a", "b", "c");
        assertThat(groups.waiting()).isZero();
        assertThat(groups.drainWaiting()).as("nothing left in the deque").isEmpty();
    }

    @Test
    void anUngroupedItemResumedThatTheDequeCouldNotTake_isNotLeftQueued_theOthersRun() {
        groups.submitAll(List.of("a"), item -> null);
        unordered.failOn = "held";

        assertThatThrownBy(() -> groups.resume(null, "held"))
                .as("told to the caller, who gives it back").isInstanceOf(OutOfMemoryError.class);
        assertThat(groups.waiting()).isEqualTo(1);

        runTheRunners();
        assertThat(processed).as("given back by its caller, not run as well").containsExactly("a");
        assertThat(groups.drainWaiting()).as("nothing left in the deque").isEmpty();
    }
}
