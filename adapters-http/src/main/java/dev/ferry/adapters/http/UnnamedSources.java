package dev.ferry.adapters.http;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@link HttpSource} left unnamed that is running in this JVM, if one is. A source's name is its
 * deliveries' source: the ledger's default scope and the key its parked groups are kept under. Two
 * sources under the default name on one ledger — two endpoints for two partners — took each other's
 * equal ids for duplicates: partner B's {@code inv-1001} was answered 200 and never handled. The default
 * name stays (the scope of what a ledger holds already must not change), but a second source left
 * unnamed is refused at its start while the first runs. Sources named explicitly are never refused,
 * even under one name: a scope shared on purpose (replicas of one endpoint) is allowed. Thread-safe.
 */
final class UnnamedSources {

    private static final AtomicReference<HttpSource> RUNNING = new AtomicReference<>();

    private UnnamedSources() {
    }

    /** {@code source}, left unnamed, is starting: refused while another one left unnamed is running. */
    static void claim(HttpSource source) {
        var running = RUNNING.compareAndExchange(null, source);
        if (running != null && running != source) {
            throw new IllegalStateException("HTTP source '" + source.name() + "': another HttpSource left unnamed (so also '"
                    + running.name() + "') is running in this JVM. Give each its own .name(...): the name is the ledger scope "
                    + "of its events, and under one name two endpoints take each other's equal ids for duplicates (answered "
                    + "200, never handled)");
        }
    }

    /** {@code source} has stopped, or its start failed: the default name is free again (for it, else a no-op). */
    static void release(HttpSource source) {
        RUNNING.compareAndSet(source, null);
    }
}
