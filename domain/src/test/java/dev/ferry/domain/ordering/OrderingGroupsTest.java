package dev.ferry.domain.ordering;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.ordering.OrderingGroups.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OrderingGroupsTest {

    record Item(String group, int seq, boolean fails) {
    }

    private final java.util.concurrent.ExecutorService pool = Executors.newFixedThreadPool(8);

    @AfterEach
    void stop() {
        OrderingGroups.readyFault = null;
        pool.shutdownNow();
    }

    /** No memory once where this thread puts a lane in the ready queue. */
    private static void noRoomInTheReadyQueueOnce() {
        var armed = new java.util.concurrent.atomic.AtomicBoolean(true);
        var caller = Thread.currentThread();
        OrderingGroups.readyFault = () -> {
            if (Thread.currentThread() == caller && armed.compareAndSet(true, false)) {
                throw new OutOfMemoryError("Java heap space (injected: the ready queue growing)");
            }
        };
    }

    @Test
    void withinAGroup_itemsRunInOrderAndNeverConcurrently_acrossGroupsInParallel() throws Exception {
        int groupsCount = 20, perGroup = 200;
        var seen = new ConcurrentHashMap<String, List<Integer>>();
        var running = new ConcurrentHashMap<String, AtomicInteger>();
        var maxParallel = new AtomicInteger();
        var parallel = new AtomicInteger();
        var overlapInGroup = new AtomicInteger();
        var done = new CountDownLatch(groupsCount * perGroup);
        var groups = new OrderingGroups<Item>(pool, 4, new OrderingGroups.Worker<>() {
            @Override
            public boolean process(Item item) {
                int now = parallel.incrementAndGet();
                maxParallel.accumulateAndGet(now, Math::max);
                if (running.computeIfAbsent(item.group(), g -> new AtomicInteger()).incrementAndGet() > 1) {
                    overlapInGroup.incrementAndGet();
                }
                seen.computeIfAbsent(item.group(), g -> new CopyOnWriteArrayList<>()).add(item.seq());
                Thread.onSpinWait();
                running.get(item.group()).decrementAndGet();
                parallel.decrementAndGet();
                done.countDown();
                return true;
            }

            @Override
            public void release(Item item) {
                throw new AssertionError("nothing fails here");
            }
        });
        for (int i = 0; i < perGroup; i++) {
            for (int g = 0; g < groupsCount; g++) {
                groups.submit("g" + g, new Item("g" + g, i, false));
            }
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(overlapInGroup).hasValue(0);
        assertThat(maxParallel.get()).isLessThanOrEqualTo(4);
        for (var list : seen.values()) {
            assertThat(list).isSorted().hasSize(perGroup);
        }
    }

    @Test
    void aWorkerThatThrows_hasTheItemItselfReleased_beforeTheRestOfItsGroup() throws Exception {
        // only the rest was released: the item whose step threw was neither settled nor given back, and stayed in the
        // listener's hands (its lease extended) for ever
        var releasedItems = new CopyOnWriteArrayList<Item>();
        var groups = new OrderingGroups<Item>(pool, 1, new OrderingGroups.Worker<>() {
            @Override
            public Step step(Item item) {
                if (item.fails()) {
                    throw new ArithmeticException("long overflow");
                }
                return Step.DONE;
            }

            @Override
            public void release(Item item) {
                releasedItems.add(item);
            }
        });
        groups.submitAll(List.of(new Item("A", 1, true), new Item("A", 2, false)), Item::group);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (releasedItems.size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(releasedItems).containsExactly(new Item("A", 1, true), new Item("A", 2, false));
    }

    @Test
    void failure_releasesTheRestOfItsGroupInOrder_andOtherGroupsGoOn() throws Exception {
        var processed = new CopyOnWriteArrayList<Item>();
        var releasedItems = new CopyOnWriteArrayList<Item>();
        var gate = new CountDownLatch(1);
        var groups = new OrderingGroups<Item>(pool, 2, new OrderingGroups.Worker<>() {
            @Override
            public boolean process(Item item) {
                try {
                    gate.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                processed.add(item);
                return !item.fails();
            }

            @Override
            public void release(Item item) {
                releasedItems.add(item);
            }
        });
        groups.submit("A", new Item("A", 1, true));
        groups.submit("A", new Item("A", 2, false));
        groups.submit("A", new Item("A", 3, false));
        groups.submit("B", new Item("B", 1, false));
        groups.submit("B", new Item("B", 2, false));
        gate.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (processed.size() + releasedItems.size() < 5 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(releasedItems).containsExactly(new Item("A", 2, false), new Item("A", 3, false));
        assertThat(processed).contains(new Item("A", 1, true), new Item("B", 1, false), new Item("B", 2, false))
                .hasSize(3);
        assertThat(groups.waiting()).isZero();
    }

    @Test // no thread to be had once (a thread limit): the runner that never started must not be counted for ever
    void aRunnerThatCouldNotStart_isNotCounted_andLaterItemsStillRun() throws Exception {
        var refuseOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.Executor flaky = task -> {
            if (refuseOnce.getAndSet(false)) {
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits reached");
            }
            pool.execute(task);
        };
        var processed = new CopyOnWriteArrayList<Item>();
        var groups = new OrderingGroups<Item>(flaky, 1, new OrderingGroups.Worker<>() {
            @Override
            public boolean process(Item item) {
                processed.add(item);
                return true;
            }

            @Override
            public void release(Item item) {
            }
        });
        try {
            groups.submit("g", new Item("g", 1, false));
        } catch (OutOfMemoryError expected) {
            // the caller (the poller) goes on; the item is queued
        }
        groups.startMissingRunners(); // the listener's timer: nothing else is submitted
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (processed.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertThat(processed).containsExactly(new Item("g", 1, false));
        groups.submit("h", new Item("h", 1, false));
        end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (processed.size() < 2 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertThat(processed).containsExactlyInAnyOrder(new Item("g", 1, false), new Item("h", 1, false));
    }

    @Test // resume threw with the item queued: its caller gave it back (released) while a runner could still take it
    void resume_whenNoRunnerCanStart_keepsTheItemQueued_andDoesNotThrow() throws Exception {
        var one = Executors.newSingleThreadExecutor();
        try {
            var refuse = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.Executor flaky = task -> {
                if (refuse.get()) {
                    throw new OutOfMemoryError("unable to create native thread: possibly out of memory or "
                            + "process/resource limits reached");
                }
                one.execute(task);
            };
            var stepped = new CopyOnWriteArrayList<Item>();
            var releasedItems = new CopyOnWriteArrayList<Item>();
            var held = new CountDownLatch(1);
            var groups = new OrderingGroups<Item>(flaky, 1, new OrderingGroups.Worker<>() {
                @Override
                public Step step(Item item) {
                    stepped.add(item);
                    if (stepped.size() == 1) {
                        held.countDown();
                        return Step.HELD;
                    }
                    return Step.DONE;
                }

                @Override
                public void release(Item item) {
                    releasedItems.add(item);
                }
            });
            var item = new Item("g", 1, false);
            groups.submit("g", item);
            assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
            // one thread: once this ran, the runner that held the item has ended, so resume must start a new one
            one.submit(() -> { }).get(10, TimeUnit.SECONDS);
            refuse.set(true);
            org.assertj.core.api.Assertions.assertThatCode(() -> groups.resume("g", item)).doesNotThrowAnyException();
            assertThat(groups.waiting()).isOne();
            refuse.set(false);
            groups.startMissingRunners(); // the listener's lease round
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (stepped.size() < 2 && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            one.submit(() -> { }).get(10, TimeUnit.SECONDS); // the runner is done: nothing more to run
            assertThat(stepped).containsExactly(item, item); // held once, then run once
            assertThat(releasedItems).isEmpty();
            assertThat(groups.waiting()).isZero();
        } finally {
            one.shutdownNow();
        }
    }

    @Test
    void drainWaiting_returnsEverythingNotStarted() throws Exception {
        var started = new CountDownLatch(1);
        var block = new CountDownLatch(1);
        var groups = new OrderingGroups<Item>(pool, 1, new OrderingGroups.Worker<>() {
            @Override
            public boolean process(Item item) {
                started.countDown();
                try {
                    block.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return true;
            }

            @Override
            public void release(Item item) {
            }
        });
        groups.submit("A", new Item("A", 1, false));
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        groups.submit("A", new Item("A", 2, false));
        groups.submit(null, new Item("-", 1, false));
        groups.submit("B", new Item("B", 1, false));
        var drained = groups.drainWaiting();
        block.countDown();
        assertThat(drained).containsExactlyInAnyOrder(new Item("A", 2, false), new Item("-", 1, false), new Item("B", 1, false));
        assertThat(groups.waiting()).isZero();
    }

    @Test
    void unorderedItems_andGroups_bothMakeProgress() throws Exception {
        var done = new CountDownLatch(200);
        var order = new ArrayList<String>();
        var groups = new OrderingGroups<Item>(pool, 1, new OrderingGroups.Worker<>() {
            @Override
            public boolean process(Item item) {
                synchronized (order) {
                    order.add(item.group());
                }
                done.countDown();
                return true;
            }

            @Override
            public void release(Item item) {
            }
        });
        for (int i = 0; i < 100; i++) {
            groups.submit(null, new Item("-", i, false));
            groups.submit("G", new Item("G", i, false));
        }
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        synchronized (order) {
            assertThat(order.subList(0, 50)).contains("-", "G");
        }
    }

    /** Groups of 4 on the pool whose worker notes what it processed (each done) and what it released. */
    private OrderingGroups<Item> recording(List<Item> processed, List<Item> released) {
        return new OrderingGroups<>(pool, 4, new OrderingGroups.Worker<>() {
            @Override
            public boolean process(Item item) {
                processed.add(item);
                return true;
            }

            @Override
            public void release(Item item) {
                released.add(item);
            }
        });
    }

    @Test // a review: no memory while queueing a poll's 2nd item left it and the rest in the listener's hand and in no
          // lane — run by no one, given back by no one, their leases extended for ever
    void submitAll_anItemThatCannotBeQueued_isReleasedWithTheRest_andThoseQueuedRun() throws Exception {
        var processed = new CopyOnWriteArrayList<Item>();
        var releasedItems = new CopyOnWriteArrayList<Item>();
        var groups = recording(processed, releasedItems);
        var calls = new AtomicInteger();
        java.util.function.Function<Item, String> groupOf = item -> {
            if (calls.incrementAndGet() == 2) { // where a lane's memory is asked for: the same loop, the same throw
                throw new OutOfMemoryError("Java heap space (injected)");
            }
            return item.group();
        };
        var batch = List.of(new Item("A", 1, false), new Item("A", 2, false), new Item("B", 1, false),
                new Item("A", 3, false), new Item(null, 1, false));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> groups.submitAll(batch, groupOf))
                .as("told to the caller (the poller logs it)").isInstanceOf(OutOfMemoryError.class);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (processed.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(processed).as("queued before it: run").containsExactly(batch.get(0));
        assertThat(releasedItems).as("it and the rest: given back once each, in order")
                .containsExactlyElementsOf(batch.subList(1, batch.size()));
        assertThat(groups.waiting()).isZero();
    }

    @Test // a review: no memory putting a new group's lane in the ready queue left its item in the lane, the lane
          // marked scheduled: the item was released (and queued), and the group's later items never ran
    void submitAll_aLaneThatCannotBeMadeReady_leavesNothingQueued_andItsGroupRunsLater() throws Exception {
        var processed = new CopyOnWriteArrayList<Item>();
        var releasedItems = new CopyOnWriteArrayList<Item>();
        var groups = recording(processed, releasedItems);
        noRoomInTheReadyQueueOnce();
        var first = new Item("A", 1, false);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> groups.submitAll(List.of(first), Item::group))
                .isInstanceOf(OutOfMemoryError.class);
        assertThat(releasedItems).as("given back to the caller's queue").containsExactly(first);
        assertThat(groups.waiting()).as("nothing left queued").isZero();

        var next = new Item("A", 2, false);
        groups.submitAll(List.of(next), Item::group);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (processed.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(processed).as("the group's next item runs; waiting " + groups.waiting()).containsExactly(next);
        assertThat(groups.waiting()).isZero();
        assertThat(releasedItems).as("released once, never run").containsExactly(first);
    }

    @Test // the same at a resume: the held head was given back by its caller, and its group's later items waited in a
          // lane marked scheduled out of the ready queue for good
    void resume_aLaneThatCannotBeMadeReady_releasesTheGroupsLaterItems_andTheGroupRunsLater() throws Exception {
        var processed = new CopyOnWriteArrayList<Item>();
        var releasedItems = new CopyOnWriteArrayList<Item>();
        var held = new CountDownLatch(1);
        var head = new Item("G", 1, false);
        var groups = new OrderingGroups<Item>(pool, 4, new OrderingGroups.Worker<>() {
            @Override
            public Step step(Item item) {
                if (item.equals(head)) {
                    held.countDown();
                    return Step.HELD;
                }
                processed.add(item);
                return Step.DONE;
            }

            @Override
            public void release(Item item) {
                releasedItems.add(item);
            }
        });
        groups.submit("G", head);
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        var behind = new Item("G", 2, false);
        groups.submit("G", behind); // waits behind the held head
        noRoomInTheReadyQueueOnce();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> groups.resume("G", head))
                .as("told to the caller, who gives the head back").isInstanceOf(OutOfMemoryError.class);
        assertThat(releasedItems).as("the group's later item goes back behind its head").containsExactly(behind);
        assertThat(groups.waiting()).as("nothing left queued").isZero();

        var later = new Item("G", 3, false);
        groups.submit("G", later);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (processed.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(processed).as("the group runs again; waiting " + groups.waiting()).containsExactly(later);
        assertThat(groups.waiting()).isZero();
    }

    @Test
    void submitAll_aFailingItem_releasesTheLaterItemsOfItsGroupInTheBatch() throws Exception {
        var processed = new CopyOnWriteArrayList<Item>();
        var releasedItems = new CopyOnWriteArrayList<Item>();
        var groups = new OrderingGroups<Item>(pool, 4, new OrderingGroups.Worker<>() {
            @Override
            public boolean process(Item item) {
                processed.add(item);
                return !item.fails();
            }

            @Override
            public void release(Item item) {
                releasedItems.add(item);
            }
        });
        for (int round = 0; round < 200; round++) {
            processed.clear();
            releasedItems.clear();
            var batch = List.of(new Item("A", 1, true), new Item("A", 2, false), new Item("B", 1, false), new Item("A", 3, false));
            groups.submitAll(batch, Item::group);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (processed.size() + releasedItems.size() < 4 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(releasedItems).as("round " + round).containsExactly(new Item("A", 2, false), new Item("A", 3, false));
        }
    }
}
