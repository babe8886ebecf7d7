package dev.ferry.domain.ordering;

import java.util.ArrayDeque;

/**
 * Adds to an {@link ArrayDeque} whole or not at all. The JDK's stores the element and moves its end before it grows: a
 * growth that fails (no memory) leaves it reading empty with every slot full, and what waited in it is never taken out
 * again. Taken back here, the deque is as it was, and what the growth threw is thrown.
 */
final class Deques {

    private Deques() {
    }

    /** {@link ArrayDeque#addLast}; or, when that throws, nothing added and what it threw thrown. */
    static <T> void addLastOrNothing(ArrayDeque<T> deque, T item) {
        try {
            deque.addLast(item);
        } catch (Throwable e) {
            if (deque.peekLast() == item) { // stored before the deque grew: taken back, the deque's end with it
                deque.pollLast();
            }
            throw e;
        }
    }

    /** {@link ArrayDeque#addFirst}; or, when that throws, nothing added and what it threw thrown. */
    static <T> void addFirstOrNothing(ArrayDeque<T> deque, T item) {
        try {
            deque.addFirst(item);
        } catch (Throwable e) {
            if (deque.peekFirst() == item) { // stored before the deque grew: taken back, the deque's head with it
                deque.pollFirst();
            }
            throw e;
        }
    }
}
