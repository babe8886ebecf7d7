package dev.ferry.domain.ordering;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Runs work items strictly in order within a group, in parallel across groups, with at most
 * {@code maxConcurrency} items running at once. Items without a group run in any order.
 *
 * <p>When an item of a group fails, the items of that group still waiting are not run: they are
 * handed to the {@link Worker#release} callback, in order, so they can go back to their queue
 * behind the failed one — never processed out of order. Other groups go on.
 *
 * <p>Groups are served round-robin so one busy group cannot starve the others. Thread-safe.
 *
 * @param <T> the work item
 */
public final class OrderingGroups<T> {

    /** How processing an item ended, for its group. */
    public enum Step {
        /** Finished (one way or the other): the group goes on with its next item. */
        DONE,
        /** Failed and went back: the rest of the group waiting here is released behind it. */
        FAILED,
        /**
         * Held by the worker, to be tried again: the group waits (its later items stay queued)
         * until the worker hands the item back with {@link #resume}.
         */
        HELD
    }

    /** What to do with items. */
    public interface Worker<T> {

        /** Processes one item; false means it failed and the rest of its group must be released. */
        default boolean process(T item) {
            throw new UnsupportedOperationException("a Worker implements process or step");
        }

        /** Processes one item and says what its group does next. Defaults to {@link #process}. */
        default Step step(T item) {
            return process(item) ? Step.DONE : Step.FAILED;
        }

        /**
         * An item that will not be processed, because an earlier item of its group failed — or an
         * item whose {@link #step} threw, which can then have decided nothing about it, or one that
         * {@link OrderingGroups#submitAll} could not queue.
         */
        void release(T item);
    }

    /** A test's stand-in for an Error where a lane is put in the ready queue (no memory); null outside tests. */
    static volatile Runnable readyFault;

    private final Executor executor;
    private final int maxConcurrency;
    private final Worker<T> worker;

    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Lane<T>> lanes = new HashMap<>();
    private final ArrayDeque<Lane<T>> ready = new ArrayDeque<>();
    private final ArrayDeque<T> unordered = new ArrayDeque<>();
    private int runners;
    private int waiting;
    private int active;
    private boolean preferUnordered;

    public OrderingGroups(Executor executor, int maxConcurrency, Worker<T> worker) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.worker = Objects.requireNonNull(worker, "worker");
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("maxConcurrency must be >= 1, was " + maxConcurrency);
        }
        this.maxConcurrency = maxConcurrency;
    }

    /** Queues an item behind the earlier items of {@code group} (null: no group). */
    public void submit(String group, T item) {
        Objects.requireNonNull(item, "item");
        int start;
        lock();
        try {
            enqueue(group, item);
            start = runnersToStart();
        } finally {
            lock.unlock();
        }
        startRunners(start);
    }

    /**
     * Queues several items at once, atomically: no item of the batch starts before all are queued,
     * so a failure of an early item of a group releases every later item of that group in the batch.
     * One that cannot be queued (no memory for its lane) is released with every item after it, then
     * what that threw is thrown; those queued before it run.
     */
    public void submitAll(List<T> items, Function<T, String> groupOf) {
        int start;
        int queued = 0;
        Throwable failed = null; // caught as RuntimeException or Error only
        lock();
        try {
            try {
                for (var item : items) {
                    enqueue(groupOf.apply(item), Objects.requireNonNull(item, "item"));
                    queued++;
                }
            } catch (RuntimeException | Error e) { // no memory for a lane: those queued run all the same
                failed = e;
            }
            start = runnersToStart();
        } finally {
            lock.unlock();
        }
        try {
            startRunners(start);
        } catch (Throwable noRunner) {
            if (failed == null) {
                throw noRunner;
            } // else uncounted by startRunners, started by the next lease round (startMissingRunners)
        }
        // the rest are in the caller's hand and in no lane: nothing would run them, nor give them back (their
        // leases kept for ever, their room in the window with them)
        for (int i = queued; i < items.size(); i++) {
            if (items.get(i) != null) {
                releaseQuietly(items.get(i));
            }
        }
        if (failed instanceof Error error) {
            throw error;
        }
        if (failed != null) {
            throw (RuntimeException) failed;
        }
    }

    private void enqueue(String group, T item) {
        if (group == null) { // taken back if the deque cannot grow: left, it read empty, every ungrouped item stranded
            Deques.addLastOrNothing(unordered, item);
        } else {
            var lane = lanes.computeIfAbsent(group, Lane::new);
            try {
                lane.items.add(item);
                if (!lane.scheduled) {
                    lane.scheduleIn(ready);
                }
            } catch (Throwable e) { // no memory: not queued at all. Left in its lane, marked scheduled out of the
                // ready queue, it was released by submitAll while still queued, and its group's later items never ran
                if (lane.items.peekLast() == item) { // stored before the deque grew (if that failed): taken back
                    lane.items.pollLast();
                }
                if (!lane.scheduled && lane.items.isEmpty()) {
                    lanes.remove(group, lane);
                }
                throw e;
            }
        }
        waiting++;
    }

    /** Under the lock: how many runners to add so every runnable item has one, within the bound. */
    private int runnersToStart() {
        int runnable = unordered.size() + ready.size();
        int idle = runners - active;
        int start = Math.max(0, Math.min(runnable - idle, maxConcurrency - runners));
        runners += start;
        return start;
    }

    private void startRunners(int count) {
        for (int i = 0; i < count; i++) {
            try {
                executor.execute(this::run);
            } catch (Throwable notStarted) {
                // rejected at a stop, or no thread to be had (a thread limit: an Error): this runner and the rest are
                // not counted, or they would count as idle for ever and the items queued would never run
                lock();
                try {
                    runners -= count - i;
                } finally {
                    lock.unlock();
                }
                throw notStarted;
            }
        }
    }

    /**
     * Puts an item that {@link Step#HELD held} its group back at the head of that group, to run
     * again before the group's later items. Does not throw once the item is queued: a runner that
     * cannot start (no thread to be had) is started by {@link #startMissingRunners}. One that cannot
     * be queued (no memory) is not, and what that threw is thrown: the group's later items are released.
     */
    public void resume(String group, T item) {
        Objects.requireNonNull(item, "item");
        int start;
        Lane<T> dropped = null;
        lock();
        try {
            if (group == null) { // taken back if the deque cannot grow (see enqueue); thrown, the caller gives it back
                Deques.addFirstOrNothing(unordered, item);
            } else {
                var lane = lanes.computeIfAbsent(group, Lane::new);
                try {
                    lane.items.addFirst(item);
                    if (!ready.contains(lane)) {
                        lane.scheduleIn(ready);
                    }
                } catch (Throwable e) { // no memory: given back by the caller. Its lane, held, was left out of the
                    // ready queue for good: dropped, its group's later items go back behind it, as after a failure
                    if (lane.items.peekFirst() == item) { // stored before the deque grew (if that failed): taken back
                        lane.items.pollFirst();
                    }
                    if (!ready.contains(lane)) {
                        lanes.remove(group, lane);
                        dropped = lane;
                    }
                    throw e;
                }
            }
            waiting++;
            start = runnersToStart();
        } finally {
            lock.unlock();
            if (dropped != null) {
                releaseRest(dropped);
            }
        }
        try {
            startRunners(start);
        } catch (Throwable noRunner) {
            // the item is queued now and a runner takes it later: thrown to the caller, it was given back (released)
            // while still queued, and run again. Uncounted by startRunners; the next lease round starts one
        }
    }

    /**
     * Starts the runners that queued items lack: those that could not start when the items came (no
     * thread to be had) are tried again here, so the items do not wait for the next submit. Called on
     * a timer (the listener's lease rounds); never throws.
     */
    public void startMissingRunners() {
        int start;
        lock();
        try {
            start = runnersToStart();
        } finally {
            lock.unlock();
        }
        try {
            startRunners(start);
        } catch (Throwable stillNone) {
            // uncounted again by startRunners; tried next round
        }
    }

    /** Items queued and not yet started. */
    public int waiting() {
        lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /** Removes and returns every item not yet started, groups in order (used at shutdown). */
    public List<T> drainWaiting() {
        lock();
        try {
            var drained = new ArrayList<T>(waiting);
            drained.addAll(unordered);
            unordered.clear();
            for (var lane : lanes.values()) {
                drained.addAll(lane.items);
                lane.items.clear();
            }
            waiting = 0;
            // Lanes waiting to run are empty now; lanes being run are dropped when their item ends.
            for (var lane : ready) {
                lane.scheduled = false;
                lanes.remove(lane.group, lane);
            }
            ready.clear();
            return drained;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the lock, spinning a little first: the sections it guards take well under a
     * microsecond, and parking a runner (then waking it) costs far more than waiting them out.
     */
    private void lock() {
        for (int i = 0; i < 100; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    private void run() {
        Lane<T> lane = null;
        boolean started = false;
        boolean held = false;
        while (true) {
            T item;
            lock();
            try {
                if (started) {
                    active--;
                    started = false;
                }
                if (lane != null && !held) {
                    finishLane(lane);
                }
                lane = null;
                held = false;
                // Alternate between unordered items and group lanes so neither starves the other.
                preferUnordered = !preferUnordered;
                if (!unordered.isEmpty() && (ready.isEmpty() || preferUnordered)) {
                    item = unordered.poll();
                } else if ((lane = ready.poll()) != null) {
                    item = lane.items.poll();
                } else {
                    runners--;
                    return;
                }
                waiting--;
                active++;
                started = true;
            } finally {
                lock.unlock();
            }
            Step step;
            try {
                step = worker.step(item);
            } catch (Throwable e) { // whatever a worker throws, this runner and its group's bookkeeping go on
                step = Step.FAILED;
                releaseQuietly(item); // it may have been decided on before the throw: releasing is the worker's to make safe
            }
            if (step == null) {
                step = Step.FAILED;
            }
            // a held lane stays scheduled and out of the ready queue until resume() puts its head back
            held = step == Step.HELD;
            if (step == Step.FAILED && lane != null) {
                releaseRest(lane);
            }
        }
    }

    /** Called under the lock after a lane's head item ran: reschedule it or forget it. */
    private void finishLane(Lane<T> lane) {
        if (lane.items.isEmpty()) {
            lane.scheduled = false;
            lanes.remove(lane.group, lane);
        } else {
            ready.add(lane);
        }
    }

    private void releaseRest(Lane<T> lane) {
        List<T> rest;
        lock();
        try {
            rest = new ArrayList<>(lane.items);
            lane.items.clear();
            waiting -= rest.size();
        } finally {
            lock.unlock();
        }
        for (var item : rest) {
            releaseQuietly(item); // one failed release must not strand the others
        }
    }

    private void releaseQuietly(T item) {
        try {
            worker.release(item);
        } catch (Throwable e) {
            // nothing more this runner can do for it
        }
    }
}
