package dev.ferry.domain.listener;

/**
 * Interrupts sent from a thread of their own. Interrupting a thread blocked in an interruptible channel's I/O (a
 * {@code FileChannel}'s write or force, a plugin's NIO call) closes that channel on the thread that interrupts, and the
 * close waits out the I/O under way: a write to a disk that hangs (an NFS or EFS hard mount) held the interrupting
 * thread — the lease keeper, so no lease and no claim was extended and no other call interrupted, or a stop, for ever —
 * as long as the disk did.
 */
final class Interrupts {

    private Interrupts() {
    }

    /**
     * Runs {@code interrupting} on a new daemon thread named {@code name}; the thread, to join for a while if need be. When
     * no thread can be had it runs here ({@link SpareThreads}).
     */
    static Thread send(String name, Runnable interrupting) {
        return SpareThreads.start(SpareThreads.named(name), interrupting);
    }
}
