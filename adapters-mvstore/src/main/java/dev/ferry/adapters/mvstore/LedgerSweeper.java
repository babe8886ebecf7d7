package dev.ferry.adapters.mvstore;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes from the ledger file what no one needs any more — completed keys whose TTL ran out, journals
 * past theirs, and (once in 60 sweeps) claims abandoned for a day — on a thread of its own, every
 * {@code every}. Whatever a sweep throws, an {@code Error} too, is logged and the next sweep runs: a
 * sweeper that ended would let the file grow until the disk is full. Stopped by a latch, never by an
 * interrupt (an interrupted thread's file channel is closed under the whole store).
 */
final class LedgerSweeper {

    /** Expired keys removed per round of a sweep. */
    private static final int ROUND = 10_000;
    private static final Duration ABANDONED = Duration.ofDays(1);
    private static final Logger LOG = LoggerFactory.getLogger(MvStoreLedger.class);

    private final Path file;
    private final LedgerFile files;
    private final Clock clock;
    private final LedgerCommits commits;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final AtomicLong sweeps = new AtomicLong();
    private final Thread thread;

    /** Owed marks a reopening did not write into the file opened anew: written each round. */
    private final OwedMarks owed;

    LedgerSweeper(Path file, LedgerFile files, Clock clock, LedgerCommits commits, OwedMarks owed, Duration every) {
        this.owed = owed;
        this.file = file;
        this.files = files;
        this.clock = clock;
        this.commits = commits;
        this.thread = Thread.ofPlatform().daemon().name("ferry-ledger-sweeper").start(() -> loop(every));
    }

    /** Stops the thread and waits up to 5 s for a sweep under way; false when the wait was interrupted. */
    boolean stop() {
        stopping.countDown();
        try {
            thread.join(5_000);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private void loop(Duration every) {
        for (;;) {
            try {
                if (stopping.await(every.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
                files.checkSameFile();
                owed.reopened(files.maps(), clock.millis()); // none, but after a reopening whose telling threw
                int removed = sweep();
                LOG.debug("ledger {}: swept {} expired key(s)", file, removed);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) { // an Error too: a sweeper that ends lets the file grow until the disk is full
                LOG.warn("ledger " + file + ": sweep failed; will try again", e);
            }
        }
    }

    /** One sweep; returns how many keys and journals it removed. */
    int sweep() {
        var m = files.maps();
        long now = clock.millis();
        int removed = 0;
        int due;
        do { // in rounds: after a long downtime millions may be due, more than a list of them all should hold
            var cursor = m.expiries().keyIterator(null);
            var done = new ArrayList<String>();
            while (cursor.hasNext() && done.size() < ROUND) {
                String index = cursor.next();
                long expiresAt = Long.parseLong(index.substring(0, 20));
                if (expiresAt > now) {
                    break;
                }
                done.add(index);
            }
            for (String index : done) {
                String key = index.substring(21);
                String value = m.entries().get(key);
                if (value != null) {
                    var e = LedgerEntry.parse(value);
                    if (e.completed() && e.second() <= now && m.entries().remove(key, value)) {
                        removed++;
                    }
                }
                m.expiries().remove(index);
            }
            due = done.size();
        } while (due == ROUND && stopping.getCount() > 0);
        removed += m.journal().sweep(now);
        if (sweeps.getAndIncrement() % 60 != 0) {
            // abandoned claims are rare and reclaimable anyway: look for them once in 60 sweeps
            if (removed > 0) {
                commits.commit(m.store(), false);
            }
            return removed;
        }
        long abandonedBefore = now - ABANDONED.toMillis();
        for (var entry : m.entries().entrySet()) {
            var e = LedgerEntry.parse(entry.getValue());
            if (!e.completed() && e.first() < abandonedBefore && m.entries().remove(entry.getKey(), entry.getValue())) {
                removed++;
            }
        }
        if (removed > 0) {
            commits.commit(m.store(), false);
        }
        return removed;
    }
}
