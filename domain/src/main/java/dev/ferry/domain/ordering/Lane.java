package dev.ferry.domain.ordering;

import java.util.ArrayDeque;

/** A group's items in {@link OrderingGroups}, run one at a time, in order. Guarded by the groups' lock. */
final class Lane<T> {
    final String group;
    final ArrayDeque<T> items = new ArrayDeque<>(4);
    boolean scheduled;

    Lane(String group) {
        this.group = group;
    }

    /**
     * Puts this lane in {@code ready}, then marks it scheduled: a throw (no memory to grow the queue) leaves both as
     * they were. Marked first, a lane left out of the queue was never put in it again: its group waited for good.
     */
    void scheduleIn(ArrayDeque<Lane<T>> ready) {
        var fault = OrderingGroups.readyFault;
        if (fault != null) {
            fault.run();
        }
        try {
            ready.add(this);
        } catch (Throwable e) {
            if (ready.peekLast() == this) { // an ArrayDeque stores an element before it grows: a failed growth left it
                ready.pollLast();
            }
            throw e;
        }
        scheduled = true;
    }
}
