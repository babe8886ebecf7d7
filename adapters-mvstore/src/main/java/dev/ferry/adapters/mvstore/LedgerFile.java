package dev.ferry.adapters.mvstore;

import dev.ferry.adapters.mvstore.internal.ClosedOnFailureFilePath;
import dev.ferry.adapters.mvstore.internal.CountedReadsFilePath;
import dev.ferry.domain.model.FerryException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger's open file and its maps. H2 closes a store for good when a write fails under it (a
 * full disk, an I/O error, an {@code OutOfMemoryError} while it writes): the file is then opened
 * again on the next call — at most once a second — rather than the ledger failing every call until
 * the process restarts. What was not committed before the failure is gone, as after a crash — with
 * one difference: claims made in the second before it are lost while their handlers still run, so a
 * copy of such a message that arrives meanwhile (another poller, a redelivery) may run beside them.
 * Completions are committed before they return, so none that returned is lost.
 */
final class LedgerFile {

    private static final Logger LOG = LoggerFactory.getLogger(LedgerFile.class);
    private static final long RETRY_NANOS = 1_000_000_000L;

    /** One opening of the file: the store and every map in it. */
    record Maps(MVStore store, MVMap<String, String> entries, MVMap<String, String> expiries, MVMap<String, Long> meta,
                MVMap<String, String> parked, MvStoreJournal journal) {

        boolean broken() {
            return store.isClosed() || store.getPanicException() != null;
        }
    }

    private final Path file;
    /** Held from the opening to the close: H2's lock is let go while a broken store is opened again. */
    private final LedgerLock lock;
    /** The name H2 opens the file by (its scheme, its failed reads counted): a test's may hold or fail its writes. */
    private final java.util.function.Function<Path, String> names;
    private final Consumer<Maps> reopened;
    private volatile Maps maps;
    private volatile boolean closed;
    private long lastAttempt;
    /** The store version of the last commit callers were told is on disk (0: none yet): CommittedVersion#notOlder. */
    final CommittedVersion committed = new CommittedVersion();

    /** Opens {@code file}; {@code reopened} is told of each later opening (not of this first one). */
    LedgerFile(Path file, Consumer<Maps> reopened) {
        this(file, dev.ferry.adapters.mvstore.internal.UninterruptibleFilePath::of, reopened);
    }

    LedgerFile(Path file, java.util.function.Function<Path, String> names, Consumer<Maps> reopened) {
        this.file = file;
        this.names = names.andThen(ClosedOnFailureFilePath::of).andThen(CountedReadsFilePath::of); // CommittedVersion#open
        this.reopened = reopened;
        this.keys = keys(file);
        synchronized (OPEN) {
            if (keys.stream().anyMatch(OPEN::contains)) {
                throw new FerryException("cannot open the ledger file " + file + ": a ledger of this process has it open "
                        + "already (one ledger per file, under any name or link; share that one)", false);
            }
            OPEN.addAll(keys);
        }
        try {
            this.lock = LedgerLock.take(realFile(file, (Path) keys.get(0)));
        } catch (RuntimeException | Error e) {
            OPEN.removeAll(keys);
            throw e;
        }
        try {
            this.maps = open(file, this.names, committed); // none yet: any version
        } catch (RuntimeException | Error e) {
            lock.close();
            OPEN.removeAll(keys);
            throw e;
        }
        var opened = identity(file); // not asked (a hiccup) at the opening: none to compare with, not a file removed
        this.identity = opened == UNKNOWN || opened == GONE ? null : opened;
        if (identity != null && OPEN.add(identity)) { // made by the opening: known by its identity from now on
            keys.add(identity);
        }
        if (identity == null) {
            LOG.warn("ledger {}: the file's identity could not be read as it opened; its removal or replacement while Ferry "
                    + "runs will not be noticed", file);
        }
    }

    /** The file's identity as opened (its inode, say); null where the file system gives none. */
    private final Object identity;
    /** Why the ledger refuses every call: the file at its path is not the one opened; null while it is. */
    private volatile String replaced;
    private static final Object GONE = new Object();
    /** The file could not be asked (an NFS hiccup, a directory's permissions changing): nothing is concluded. */
    private static final Object UNKNOWN = new Object();

    private static Object identity(Path file) {
        try {
            return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (java.nio.file.NoSuchFileException e) {
            return GONE;
        } catch (java.io.IOException e) { // taken for gone, a passing failure refused every call until a restart
            return UNKNOWN;
        }
    }

    /**
     * Whether the file at the path is still the one opened (asked each sweep, and before opening it again). Removed (to
     * free a full disk) or replaced under the store, it was never noticed: H2 wrote on to the unlinked file, and the next
     * failed write opened a new, empty ledger at the path — every completion and parked group forgotten, said "as after a
     * crash". Every call is refused from then on (messages held, not ready, the reason said) until Ferry restarts.
     */
    void checkSameFile() {
        var now = identity == null || replaced != null || closed ? UNKNOWN : identity(file);
        if (now == UNKNOWN || identity.equals(now)) {
            return;
        }
        replaced = "the ledger file " + file + " was removed or replaced while Ferry had it open: its completions and "
                + "parked groups are in the file removed, not the one at the path; Ferry holds every message until it is "
                + "restarted. Removed, its only copy is the one Ferry holds open: copy it out BEFORE stopping Ferry (on "
                + "Linux: cp /proc/" + ProcessHandle.current().pid() + "/fd/N " + file + ".saved, N the descriptor "
                + "`ls -l /proc/" + ProcessHandle.current().pid() + "/fd` shows as " + file + " (deleted)), then put it "
                + "back at the path; stopped first, it is gone, and the restart begins an empty ledger: events done within "
                + "their TTL may run again, and parked groups' later messages run ahead of their heads";
        LOG.error("ledger {}", replaced);
    }

    /**
     * The files a ledger of this process has open. H2 refuses a second opening of one, but closes the descriptor it
     * opened for it — and on Linux closing any descriptor of a file drops every lock the process holds on it: the
     * first ledger's too, and another process could then open the file beside it.
     */
    private static final java.util.Set<Object> OPEN = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.List<Object> keys;

    /**
     * The file's own real path (links to it followed): its lock is beside the file, not beside a link's name — opened by
     * a link here and by its target in another process, each took a lock of its own. A link to a file not made yet is
     * followed too: the opening makes the file at its target. Else {@code named}.
     */
    private static Path realFile(Path file, Path named) {
        var at = file.toAbsolutePath();
        for (int hops = 0; hops < 40 && java.nio.file.Files.isSymbolicLink(at); hops++) { // 40: Linux's own bound
            try {
                return at.toRealPath();
            } catch (java.io.IOException | RuntimeException notThereYet) {
                try {
                    at = at.resolveSibling(java.nio.file.Files.readSymbolicLink(at));
                } catch (java.io.IOException | RuntimeException unreadable) {
                    return named;
                }
            }
        }
        try {
            return at.toRealPath();
        } catch (java.io.IOException | RuntimeException notThereYet) {
            try {
                return at.getParent().toRealPath().resolve(at.getFileName());
            } catch (java.io.IOException | RuntimeException noDirectory) {
                return named;
            }
        }
    }

    /**
     * The file as the file system knows it: its directory's real path (links and {@code ..} followed) and its name; and
     * where it exists, its identity (device and inode). A symbolic or hard link to the file itself named it otherwise:
     * H2 was asked to open it a second time, and the lock it failed to take dropped the first ledger's.
     */
    private static java.util.List<Object> keys(Path file) {
        var keys = new java.util.ArrayList<Object>(2);
        var absolute = file.toAbsolutePath();
        try {
            keys.add(absolute.getParent() != null && absolute.getFileName() != null
                    ? absolute.getParent().toRealPath().resolve(absolute.getFileName()) : absolute.normalize());
        } catch (java.io.IOException notThereYet) { // made by the opening: no link to follow yet
            keys.add(absolute.normalize());
        }
        var identity = identity(file);
        if (identity != GONE && identity != UNKNOWN && identity != null) {
            keys.add(identity);
        }
        return keys;
    }

    /** The maps to use now: those of a new opening when the store broke. */
    Maps maps() {
        if (replaced != null) {
            throw new FerryException(replaced, true);
        }
        var m = maps;
        if (!m.broken()) {
            return m;
        }
        if (closed) {
            throw new FerryException("ledger " + file + " is closed", false); // on purpose: not opened again
        }
        var fresh = reopen(m);
        if (fresh == null) {
            return maps; // another caller opened it again meanwhile
        }
        reopened.accept(fresh); // outside this object's lock: the ledger takes its own
        return fresh;
    }

    /** The maps of the current opening, broken or not: to tell whether a write went to them. */
    Maps current() {
        return maps;
    }

    /**
     * Held while the file is opened again or closed: a lock, not a monitor — a virtual thread (a claim's extension, a
     * completion) waiting on a monitor pins its carrier on JDK 21, and a reopen on a slow disk held every carrier, and so
     * every virtual thread of the process, for as long as it took.
     */
    final java.util.concurrent.locks.ReentrantLock opening = new java.util.concurrent.locks.ReentrantLock();

    /** The maps of a new opening; null when {@code broken} was replaced already. */
    private Maps reopen(Maps broken) {
        opening.lock();
        try {
            return reopenLocked(broken);
        } finally {
            opening.unlock();
        }
    }

    private Maps reopenLocked(Maps broken) {
        if (closed) { // closed while this caller waited for the lock: opened now, the file would stay locked for good
            throw new FerryException("ledger " + file + " is closed", false);
        }
        if (maps != broken) {
            return null;
        }
        var cause = broken.store().getPanicException();
        long now = System.nanoTime();
        if (lastAttempt != 0 && now - lastAttempt < RETRY_NANOS) {
            throw new FerryException("ledger " + file + " failed to write (" + cause + "); opening it again", cause, true);
        }
        lastAttempt = now;
        checkSameFile(); // opened again at a path whose file was removed, the ledger began anew, empty
        if (replaced != null) {
            throw new FerryException(replaced, cause, true);
        }
        try {
            broken.store().closeImmediately();
        } catch (RuntimeException e) {
            LOG.debug("closing the broken ledger store failed", e);
        }
        Maps fresh;
        try {
            fresh = open(file, names, committed);
        } catch (FerryException e) {
            throw new FerryException(e.getMessage(), e.getCause(), true); // the disk may come back: asked again later
        }
        maps = fresh;
        LOG.warn("ledger {}: opened again after a failed write ({}); what was not committed before it is lost, "
                + "as after a crash", file, String.valueOf(cause));
        return fresh;
    }

    void close() {
        opening.lock();
        try {
            closeLocked();
        } finally {
            opening.unlock();
        }
    }

    private void closeLocked() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            var m = maps;
            if (!m.broken()) {
                try {
                    // H2's background writer stopped first, a write of its under way waited for: one that fails now shows
                    // as broken below — failing inside H2's close instead, it left that close spinning for ever (it closes
                    // at once a store it is itself stopping, under its own lock)
                    m.store().setAutoCommitDelay(0);
                } catch (RuntimeException e) {
                    LOG.debug("stopping the ledger store's background writer failed", e);
                }
            }
            if (m.broken()) {
                m.store().closeImmediately(); // nothing to save: H2 refuses to write to a store that broke
            } else {
                m.store().close();
            }
        } finally {
            lock.close();
            OPEN.removeAll(keys);
        }
    }

    /**
     * H2's words, with the file's own name for its internal one, and why: "Could not open file" keeps the reason (the
     * permissions of a volume owned by root, a read-only file system, a directory, no lock daemon) in its cause alone.
     */
    private static String why(MVStoreException e, String internal, Path file) {
        String text = String.valueOf(e.getMessage()).replace(internal, file.toString());
        var cause = e.getCause();
        return cause == null ? text : text + " (" + cause.getClass().getSimpleName() + ": "
                + dev.ferry.domain.model.Thrown.message(cause).replace(internal, file.toString()) + ")";
    }

    private static Maps open(Path file, java.util.function.Function<Path, String> names, CommittedVersion committed) {
        MVStore store;
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            store = ClosedOnFailureFilePath.closingOnFailure(() -> committed.open(file, names.apply(file)));
        } catch (MVStoreException e) {
            throw new FerryException("cannot open the ledger file " + file + ": " + why(e, names.apply(file), file)
                    + (e.getMessage() != null && e.getMessage().contains("locked") ? " (another process has it open)" : ""),
                    e, false);
        } catch (java.io.IOException e) {
            throw new FerryException("cannot create the ledger directory for " + file + ": " + e.getMessage(), e, false);
        }
        if (store.isReadOnly()) { // H2 opens a file it may not write read-only, unsaid: its commits throw, and the store,
            store.closeImmediately(); // never broken, was never opened again once the file was writable
            throw new FerryException("the ledger file " + file + " cannot be written (its permissions, or a file system "
                    + "mounted read-only): the ledger records completions there", true);
        }
        try {
            store.setAutoCommitDelay(1000); // its writer once the opening passed: none over what H2 could not read
            MVMap<String, Long> meta = store.openMap("meta");
            checkLayout(file, store, meta);
            return new Maps(store, store.openMap("ledger"), store.openMap("expiries"), meta,
                    store.openMap("parked"), new MvStoreJournal(store.openMap("journals"), store.openMap("journalExpiries")));
        } catch (RuntimeException | Error e) {
            // a read that failed (the disk that broke the store before, a moment's EIO, no memory), a writer H2 could
            // not start: the store opened holds the file's lock — left open, every later opening failed "the file is locked"
            if (!store.isClosed()) {
                try {
                    store.closeImmediately();
                } catch (RuntimeException alsoFailed) {
                    e.addSuppressed(alsoFailed);
                }
            }
            if (e instanceof FerryException || e instanceof Error) {
                throw e;
            }
            throw new FerryException("cannot read the ledger file " + file + ": " + e.getMessage(), e, true);
        }
    }

    /**
     * The layout of the file's maps (what their keys and values mean), stamped in {@code meta}; a later
     * Ferry that changes it stamps a higher one. A file without a stamp (new, or written before stamps) is
     * stamped with this one's.
     */
    static final long LAYOUT = 1;
    private static final String LAYOUT_KEY = "layout";

    /**
     * Refuses a file of a later layout: read by this version — after a rollback — its entries would be
     * taken for what they are not (completions not seen, duplicates handled again, parked groups lost).
     */
    private static void checkLayout(Path file, MVStore store, MVMap<String, Long> meta) {
        Long stamped = meta.get(LAYOUT_KEY);
        if (stamped == null) {
            meta.put(LAYOUT_KEY, LAYOUT);
            store.commit();
        } else if (stamped > LAYOUT) {
            store.closeImmediately();
            throw new FerryException("the ledger file " + file + " has layout " + stamped + ", written by a later Ferry; this "
                    + "one reads layout " + LAYOUT + " — run that later version, or give this one a file of its own (what the "
                    + "file holds, completions and parked groups, is then not known to it)", false);
        }
    }

    /**
     * Runs {@code call} with the caller's interrupt flag cleared, and sets it again after. A file
     * channel read or written by an interrupted thread is closed — for every listener on the file,
     * and H2 then gives up the store (see above) — and H2 stops waiting for a commit's
     * write when interrupted. Callers are interrupted in the normal course of things: a handler past
     * the shutdown deadline keeps its flag, and its delivery's completion is recorded on its thread.
     * What H2 throws (a read's EIO, a commit failing, a store it closed) leaves as a {@link FerryException},
     * as the ports say: retryable unless the file is damaged ({@link StoreFailure}).
     */
    static <T> T uninterrupted(Path file, java.util.function.Supplier<T> call) {
        boolean interrupted = Thread.interrupted();
        try {
            return call.get();
        } catch (MVStoreException e) { // only H2's: a note that does not parse is damaged, and stays so
            throw StoreFailure.of(file, e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
