package dev.ferry.domain.model;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * What a component or a plugin threw, as text that never throws itself. A plugin's exception whose message is
 * built lazily (or has a bug) throws from {@code getMessage()} or {@code toString()}; code that described it in its
 * own catch threw from there — a sender thread ended, a consumer was never replaced. For adapters: every
 * description of a throwable that came from outside goes through here.
 */
public final class Thrown {

    private Thrown() {
    }

    /** As {@code toString()} says it ("class: message"); its class and message read apart when that throws, else its class. */
    public static String describe(Throwable t) {
        if (t == null) {
            return "null";
        }
        try {
            String text = t.toString();
            if (text != null) {
                return text;
            }
        } catch (Throwable unprintable) {
            // read its parts apart below
        }
        String name = t.getClass().getName(); // final methods of Object and Class: these do not throw
        try {
            String message = t.getMessage();
            return message == null ? name : name + ": " + message;
        } catch (Throwable unreadable) {
            return name;
        }
    }

    /** Its message; {@link #describe} when it has none or it cannot be read. */
    public static String message(Throwable t) {
        if (t == null) {
            return "null";
        }
        try {
            String message = t.getMessage();
            if (message != null) {
                return message;
            }
        } catch (Throwable unreadable) {
            // described below
        }
        return describe(t);
    }

    /**
     * {@code t} to hand a logger with: itself when it, its causes and what it suppressed can be read, else a
     * stand-in that says what it was, with its stack. A logger reads each one's message as it takes the line, and
     * what that throws comes out of the log call — out of the catch that was to handle it.
     */
    public static Throwable loggable(Throwable t) {
        try {
            read(t);
            return t;
        } catch (Throwable unreadable) {
            var standIn = new IllegalStateException(describe(t) + " (it, a cause of it or what it suppressed cannot be "
                    + "printed: its own stack is shown)");
            try {
                standIn.setStackTrace(t.getStackTrace());
            } catch (Throwable noStack) {
                // the stand-in's own stack then: where it was caught
            }
            return standIn;
        }
    }

    /** Reads what a logger reads of {@code t} and of every throwable under it; throws what that throws. */
    private static void read(Throwable t) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        var left = new ArrayDeque<Throwable>();
        if (t != null) {
            left.add(t);
        }
        while (!left.isEmpty()) {
            var next = left.poll();
            if (!seen.add(next)) {
                continue; // a cycle of causes: each read once
            }
            next.getMessage();
            next.toString();
            next.getStackTrace();
            var cause = next.getCause();
            if (cause != null) {
                left.add(cause);
            }
            for (var suppressed : next.getSuppressed()) {
                if (suppressed != null) {
                    left.add(suppressed);
                }
            }
        }
    }
}
