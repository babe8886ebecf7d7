package dev.ferry.adapters.mvstore;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.h2.mvstore.MVStore;
import org.h2.store.fs.FileBase;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ledger's commits on a real file whose writes from H2's own writer thread can be held back. */
class LedgerCommitsTest {

    /** H2's name for a file whose writes on H2's save thread wait while {@link #held} is closed. */
    public static final class HeldFilePath extends FilePathWrapper {
        static volatile CountDownLatch held = new CountDownLatch(0);
        static final CountDownLatch heldOne = new CountDownLatch(1);
        static volatile boolean failForce;
        /** A write held fails once it is let go (a hung NFS mount that answers EIO at last). */
        static volatile boolean failHeldWrite;
        /** Counted down as a write is held (made anew by a test that needs it). */
        static volatile CountDownLatch entered = new CountDownLatch(1);
        /** The file system is read-only (remounted so after an I/O error): the file may not be written, writes fail. */
        static volatile boolean readOnly;
        /** Reads of a map's pages by the ledger's opening of its maps fail (a disk's EIO), the store's own open does not. */
        static volatile boolean failLedgerMapReads;
        /** Reads of the file by this thread fail (a disk's EIO for a moment, an NFS hiccup); null: none fail. */
        static volatile Thread failReadsOf;
        /** Reads of the file by this thread come back as zeros (a damaged page); null: none do. */
        static volatile Thread corruptReadsOf;
        /** Reads reaching past this position fail, by any thread (a disk failing where the newest chunks are). */
        static volatile long failReadsPast = Long.MAX_VALUE;
        /** Run as a read past {@link #failReadsPast} fails (a test's look at what runs meanwhile); null: nothing. */
        static volatile Runnable onFailedRead;
        /**
         * Reads reaching past this position fail while H2 opens the store (its look for the newest chunk), and no others:
         * a disk that fails at times, whose read of the file through by the ledger after H2's opening passes.
         */
        static volatile long failOpeningReadsPast = Long.MAX_VALUE;
        /**
         * Set, the next read at the file's start while H2 opens the store throws {@code OutOfMemoryError("injected")}, and
         * clears it: no memory for the header H2 reads — an Error, which H2 does not close its channel for.
         */
        static final java.util.concurrent.atomic.AtomicBoolean outOfMemoryOpening = new java.util.concurrent.atomic.AtomicBoolean();

        private static boolean h2OpeningTheStore() {
            return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName().equals(
                    org.h2.mvstore.FileStore.class.getName()) && f.getMethodName().equals("start")));
        }

        private static boolean readingALedgerMap() {
            return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName().equals(LedgerFile.class.getName())
                    && f.getMethodName().equals("open"))) && StackWalker.getInstance().walk(frames -> frames.anyMatch(
                    f -> f.getClassName().equals(MVStore.class.getName()) && f.getMethodName().equals("openMap")));
        }

        static {
            FilePath.register(new HeldFilePath());
        }

        public HeldFilePath() {
        }

        @Override
        public String getScheme() {
            return "ferry-held";
        }

        @Override
        public boolean canWrite() {
            return !readOnly && super.canWrite();
        }

        @Override
        public FileChannel open(String mode) throws IOException {
            var channel = FileChannel.open(Path.of(getBase().toString()), StandardOpenOption.READ,
                    StandardOpenOption.WRITE, StandardOpenOption.CREATE);
            return new FileBase() {
                @Override
                public int read(ByteBuffer dst, long at) throws IOException {
                    if (at == 0 && outOfMemoryOpening.get() && h2OpeningTheStore()
                            && outOfMemoryOpening.compareAndSet(true, false)) {
                        throw new OutOfMemoryError("injected");
                    }
                    if ((failLedgerMapReads && readingALedgerMap()) || Thread.currentThread() == failReadsOf
                            || at + dst.remaining() > failReadsPast
                            || (at + dst.remaining() > failOpeningReadsPast && h2OpeningTheStore())) {
                        var look = onFailedRead;
                        if (look != null && at + dst.remaining() > failReadsPast) {
                            look.run();
                        }
                        throw new IOException("Input/output error");
                    }
                    if (Thread.currentThread() == corruptReadsOf) {
                        int n = channel.read(dst, at);
                        for (int i = dst.position() - Math.max(n, 0); i < dst.position(); i++) {
                            dst.put(i, (byte) 0);
                        }
                        return n;
                    }
                    return channel.read(dst, at);
                }

                @Override
                public int write(ByteBuffer src, long at) throws IOException {
                    if (readOnly) {
                        throw new IOException("Read-only file system");
                    }
                    if (Thread.currentThread().getName().startsWith("H2-save") && held.getCount() > 0) {
                        heldOne.countDown();
                        entered.countDown();
                        try {
                            held.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                        if (failHeldWrite) {
                            throw new IOException("Input/output error");
                        }
                    }
                    return channel.write(src, at);
                }

                @Override
                public int read(ByteBuffer dst) throws IOException {
                    return channel.read(dst);
                }

                @Override
                public int write(ByteBuffer src) throws IOException {
                    return channel.write(src);
                }

                @Override
                public long position() throws IOException {
                    return channel.position();
                }

                @Override
                public FileChannel position(long newPosition) throws IOException {
                    channel.position(newPosition);
                    return this;
                }

                @Override
                public long size() throws IOException {
                    return channel.size();
                }

                @Override
                public FileChannel truncate(long size) throws IOException {
                    channel.truncate(size);
                    return this;
                }

                @Override
                public void force(boolean metaData) throws IOException {
                    if (failForce) {
                        throw new IOException("Input/output error");
                    }
                    channel.force(metaData);
                }

                @Override
                public FileLock tryLock(long at, long size, boolean shared) throws IOException {
                    return channel.tryLock(at, size, shared);
                }

                @Override
                protected void implCloseChannel() throws IOException {
                    channel.close();
                }
            };
        }
    }

    @TempDir
    Path dir;

    @Test
    void aDiskThatHangs_holdsACommitsCaller_noLongerThanTheBound() throws Exception {
        var file = dir.resolve("hung.mv.db");
        new HeldFilePath();
        var store = new MVStore.Builder().fileName("ferry-held:" + file).open();
        var commits = new LedgerCommits(file, null, false, java.time.Duration.ofMillis(300));
        try {
            store.<String, String>openMap("entries").put("completed", "yes");
            HeldFilePath.held = new CountDownLatch(1); // the commit's own write waits on H2's save thread

            // without a bound it waited as long as the disk did (here until the hold gives up, 30 s), then said written
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> commits.commit(store, false))
                    .isInstanceOf(dev.ferry.domain.model.FerryException.class).hasMessageContaining("did not finish");
        } finally {
            HeldFilePath.held.countDown();
            commits.close();
            store.closeImmediately();
        }
    }

    @Test // thirty-sixth round: H2's background write, under way as the ledger closed, failed inside H2's close: that close
          // closed at once a store it was itself stopping, under its own lock, and spun for ever on a core
    void aBackgroundWriteThatFailsWhileTheLedgerCloses_doesNotHoldTheCloseForEver() throws Exception {
        var file = dir.resolve("closing.mv.db");
        new HeldFilePath();
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).build();
        Thread closing = null;
        try {
            HeldFilePath.entered = new CountDownLatch(1);
            HeldFilePath.held = new CountDownLatch(1); // H2's next write (its autocommit, within a second) waits
            ledger.claim("k", java.time.Duration.ofMinutes(5));
            assertThat(HeldFilePath.entered.await(10, TimeUnit.SECONDS)).as("H2's background write under way").isTrue();
            closing = Thread.ofPlatform().daemon().start(ledger::close);
            var closer = closing;
            assertThat(dev.ferry.domain.testing.Await.until(java.time.Duration.ofSeconds(5),
                    () -> closer.getState() == Thread.State.WAITING || closer.getState() == Thread.State.TIMED_WAITING))
                    .as("the close waits for the write").isTrue();
            HeldFilePath.failHeldWrite = true;
            HeldFilePath.held.countDown(); // the disk answers at last: an I/O error
            closing.join(10_000);
            assertThat(closing.isAlive()).as("the close ended: " + java.util.Arrays.toString(closing.getStackTrace())).isFalse();
        } finally {
            HeldFilePath.held.countDown();
            HeldFilePath.failHeldWrite = false;
            if (closing != null && closing.isAlive()) {
                closing.interrupt();
            }
        }
        var reopened = MvStoreLedger.builder(file).build();
        try {
            // the file opens again, as after a crash, and takes claims: "k" as it was left, or anew
            assertThat(reopened.peek("k").filter(c -> c instanceof dev.ferry.domain.idempotency.Claim.Completed))
                    .as("k was never completed").isEmpty();
            assertThat(reopened.claim("after", java.time.Duration.ofMinutes(5)))
                    .as("the reopened file takes a claim").isInstanceOf(dev.ferry.domain.idempotency.Claim.Acquired.class);
        } finally {
            reopened.close();
        }
    }

    @Test
    void aCompletionRetriedAfterItsCommitRanOutOfTime_isAnsweredOnlyOnceItIsOnDisk() throws Exception {
        var file = dir.resolve("retried.mv.db");
        new HeldFilePath();
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p)
                .commitBound(java.time.Duration.ofMillis(300)).build();
        try {
            var claim = (dev.ferry.domain.idempotency.Claim.Acquired) ledger.claim("k", java.time.Duration.ofMinutes(5));
            HeldFilePath.held = new CountDownLatch(1); // the disk hangs
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ledger.complete("k", claim.token(),
                    java.time.Duration.ofDays(1))).hasMessageContaining("did not finish");

            // the completion is in memory, not on disk: answered "already done" at once, the message was acked, and a
            // disk that then failed lost it
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ledger.complete("k", claim.token(),
                    java.time.Duration.ofDays(1))).as("the retry, the disk still hanging").hasMessageContaining("did not finish");

            HeldFilePath.held.countDown();
            assertThat(ledger.complete("k", claim.token(), java.time.Duration.ofDays(1)))
                    .as("a repeat, answered once a commit covers it").isFalse();
            assertThat(ledger.peek("k")).containsInstanceOf(dev.ferry.domain.idempotency.Claim.Completed.class);
        } finally {
            HeldFilePath.held.countDown();
            ledger.close();
        }
    }

    @Test // a review: a retry read the group's change from memory, took it for written, and wrote nothing — on disk it was not
    void aParkedGroupsChangeWhoseCommitRanOutOfTime_isAnsweredOnlyOnceItIsOnDisk() throws Exception {
        var file = dir.resolve("parked.mv.db");
        new HeldFilePath();
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p)
                .commitBound(java.time.Duration.ofMillis(300)).build();
        try {
            var now = java.time.Instant.parse("2026-12-05T00:00:00Z");
            var parked = new dev.ferry.domain.parking.ParkedGroup("orders", "g", "a1", "m-1", "a1 fails", now, now, 1, 0, null,
                    0, 0, false, 1);
            assertThat(ledger.replaceParkedGroup(null, parked)).isTrue();
            var passed = new dev.ferry.domain.parking.ParkedGroup("orders", "g", "a1", "m-1", "a1 fails", now, now, 1, 1, "r-1",
                    1, 1, false, 2);
            HeldFilePath.held = new CountDownLatch(1); // the disk hangs
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ledger.replaceParkedGroup(parked, passed))
                    .hasMessageContaining("did not finish");

            // the change is in memory, not on disk: read back at once, a retry took it as written and wrote nothing
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ledger.parkedGroup("orders", "g"))
                    .as("read while the disk still hangs").hasMessageContaining("did not finish");

            HeldFilePath.held.countDown();
            assertThat(ledger.parkedGroup("orders", "g")).as("answered once a commit covers it").contains(passed);
        } finally {
            HeldFilePath.held.countDown();
            ledger.close();
        }
    }

    @Test
    void aReopeningThatFindsTheFileReadOnly_isRefused_andTheLedgerWritesAgainOnceTheFileIsWritable() throws Exception {
        // H2 opens a file it may not write read-only, unsaid: such a store's commits throw without breaking it, so it
        // was never opened again — every later write failed, the file long writable again, until a restart
        var file = dir.resolve("remounted.mv.db");
        new HeldFilePath();
        var ledger = MvStoreLedger.builder(file).names(p -> "ferry-held:" + p).build();
        try {
            var a = (dev.ferry.domain.idempotency.Claim.Acquired) ledger.claim("a", java.time.Duration.ofMinutes(5));
            HeldFilePath.readOnly = true; // an I/O error, and the file system remounted read-only
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ledger.complete("a", a.token(),
                    java.time.Duration.ofDays(1))).isInstanceOf(RuntimeException.class);
            Thread.sleep(1_100); // a reopening is tried at most once a second
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ledger.claim("b", java.time.Duration.ofMinutes(5)))
                    .as("the file read-only: no claim").isInstanceOf(RuntimeException.class);

            HeldFilePath.readOnly = false; // the disk is back
            dev.ferry.domain.idempotency.Claim b = null;
            long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (b == null && System.nanoTime() < end) {
                try {
                    b = ledger.claim("b", java.time.Duration.ofMinutes(5));
                } catch (dev.ferry.domain.model.FerryException stillBroken) {
                    Thread.sleep(100);
                }
            }
            assertThat(b).as("opened again, writable").isInstanceOf(dev.ferry.domain.idempotency.Claim.Acquired.class);
            assertThat(ledger.complete("b", ((dev.ferry.domain.idempotency.Claim.Acquired) b).token(),
                    java.time.Duration.ofDays(1))).isTrue();
        } finally {
            HeldFilePath.readOnly = false;
            ledger.close();
        }
    }

    @Test
    void aSyncThatFails_breaksTheStore_soThatItIsOpenedAgainFromWhatIsOnDisk() throws Exception {
        var file = dir.resolve("synced.mv.db");
        new HeldFilePath();
        var store = new MVStore.Builder().fileName("ferry-held:" + file).open();
        var commits = new LedgerCommits(file, null, true);
        try {
            store.<String, String>openMap("entries").put("completed", "yes");
            HeldFilePath.failForce = true;

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> commits.commit(store, true))
                    .hasRootCauseMessage("Input/output error");

            // it went on as if written before: memory ahead of the disk, a retried completion finding itself done
            assertThat(store.getPanicException()).as("the store is broken").isNotNull();
        } finally {
            HeldFilePath.failForce = false;
            commits.close();
            store.closeImmediately();
        }
    }

    @Test
    void aCommit_returnsOnlyOnceTheWritesABackgroundCommitQueuedAreOnDisk() throws Exception {
        var file = dir.resolve("ledger.mv.db");
        new HeldFilePath(); // registers the scheme
        var store = new MVStore.Builder().fileName("ferry-held:" + file).open(); // H2's background commit on
        var commits = new LedgerCommits(file, null, false);
        try {
            var map = store.<String, String>openMap("entries");
            map.put("before", "1");
            store.commit();

            HeldFilePath.held = new CountDownLatch(1);
            map.put("completed", "yes");
            store.tryCommit(); // what H2's background commit does: the write queued on H2's save thread, held there
            assertThat(HeldFilePath.heldOne.await(10, TimeUnit.SECONDS)).as("the write is held").isTrue();

            var commit = CompletableFuture.runAsync(() -> commits.commit(store, false));
            Thread.sleep(300);
            // it returned "on disk" before: nothing left unsaved in memory, while the completion's write still waited
            assertThat(commit).as("the commit waits for the write queued before it").isNotDone();

            HeldFilePath.held.countDown();
            commit.get(10, TimeUnit.SECONDS);
        } finally {
            HeldFilePath.held.countDown();
            commits.close();
            store.close();
        }
    }
}
