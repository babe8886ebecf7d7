package dev.ferry.domain.listener;

import dev.ferry.domain.model.Durations;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Handler calls that outlast {@link ListenerConfig#handlerTimeout()}: each is interrupted once (its
 * stack written to the log), and one that has not returned a while after that is a wedge — its
 * worker and its group are held for as long as it runs, and only a restart frees them. Off (no
 * bookkeeping at all) when the timeout is zero.
 */
final class HandlerWatch {

    private static final System.Logger LOG = System.getLogger(Listener.class.getName());

    /**
     * One handler call under way. Interrupted under its own lock, so an interrupt never reaches a later call, and from a
     * thread of its own ({@link Interrupts}): a call blocked in a file's I/O held the one that interrupts it.
     */
    static final class Call {
        final Thread thread = Thread.currentThread();
        final long startNanos = System.nanoTime();
        final String messageId;
        /** Set once, under the lock; read first without it (the lock may be held by an interrupt that hangs). */
        private volatile boolean interrupted;

        private Call(String messageId) {
            this.messageId = messageId;
        }
    }

    private final String name;
    private final long timeoutNanos;
    /** False once the listener stops: a stop's interrupt is the worker's to keep. */
    private final java.util.function.BooleanSupplier running;
    private final Map<Thread, Call> calls = new ConcurrentHashMap<>();
    private final AsideLog aside;

    HandlerWatch(String name, Duration timeout, java.util.function.BooleanSupplier running) {
        this.name = name;
        this.running = running;
        this.timeoutNanos = Durations.nanos(timeout);
        this.aside = new AsideLog("ferry-" + name + "-handler-watch");
    }

    /** The call the current thread begins for this message; null when no timeout is set. */
    Call begin(String messageId) {
        if (timeoutNanos == 0) {
            return null;
        }
        var call = new Call(messageId);
        calls.put(call.thread, call);
        return call;
    }

    /**
     * The call returned (or threw). True when it was interrupted for its timeout: the interrupt, if the
     * handler left it set, is cleared here — the worker's next message must not meet it — unless the
     * listener is stopping (a stop interrupts its workers too, and that one is kept).
     */
    boolean end(Call call) {
        if (call == null) {
            return false;
        }
        synchronized (call) {
            calls.remove(call.thread, call);
            if (!call.interrupted) {
                return false;
            }
        }
        if (running.getAsBoolean()) {
            Thread.interrupted();
        }
        return true;
    }

    /** Interrupts the calls past their timeout, once each; run by the lease keeper every round. */
    void check() {
        if (timeoutNanos == 0) {
            return;
        }
        long now = System.nanoTime();
        for (var call : calls.values()) {
            if (now - call.startNanos < timeoutNanos || call.interrupted) {
                continue;
            }
            StackTraceElement[] stack;
            synchronized (call) {
                if (call.interrupted || calls.get(call.thread) != call) {
                    continue; // interrupted before, or returned meanwhile (the thread may be in its next call)
                }
                stack = call.thread.getStackTrace(); // under the lock: the call's own, not the next one's
                call.interrupted = true;
            }
            Interrupts.send("ferry-" + name + "-handler-timeout", () -> {
                synchronized (call) {
                    if (calls.get(call.thread) == call) { // not returned meanwhile: never the thread's next call
                        call.thread.interrupt();
                    }
                }
            });
            aside.write(() -> LOG.log(Level.WARNING, "the handler of '" + name + "' has run for "
                    + Durations.text(Duration.ofNanos(now - call.startNanos)) + " on message " + call.messageId
                    + ", past its timeout of " + Durations.text(Duration.ofNanos(timeoutNanos))
                    + ": interrupted; it was at" + frames(stack)));
        }
    }

    /** Interrupted calls that have not returned within their grace: a wedge. */
    List<String> wedges() {
        if (timeoutNanos == 0) {
            return List.of();
        }
        long now = System.nanoTime();
        long limit = timeoutNanos + grace(timeoutNanos);
        var wedges = new ArrayList<String>();
        for (var call : calls.values()) {
            long ran = now - call.startNanos;
            if (ran > limit) {
                wedges.add("a handler has run for " + Durations.text(Duration.ofNanos(ran)) + " on message " + call.messageId
                        + ", interrupted at its timeout of " + Durations.text(Duration.ofNanos(timeoutNanos))
                        + ", and not returned");
            }
        }
        return wedges;
    }

    /** How long an interrupted call is given to return: as long again as the timeout, at least 1 s, at most 1 min. */
    static long grace(long timeoutNanos) {
        return Math.clamp(timeoutNanos, Durations.nanos(Duration.ofSeconds(1)), Durations.nanos(Duration.ofMinutes(1)));
    }

    private static String frames(StackTraceElement[] stack) {
        var text = new StringBuilder();
        for (int i = 0; i < Math.min(stack.length, 30); i++) {
            text.append("\n\tat ").append(stack[i]);
        }
        return stack.length > 30 ? text.append("\n\t... ").append(stack.length - 30).append(" more").toString() : text.toString();
    }
}
