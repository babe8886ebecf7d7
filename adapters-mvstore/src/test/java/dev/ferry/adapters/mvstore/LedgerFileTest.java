package dev.ferry.adapters.mvstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.model.FerryException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.h2.mvstore.DataUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerFileTest {

    @TempDir
    Path dir;

    @Test
    void aCallerWaitingToOpenABrokenStoreAgain_whileItIsClosed_doesNotOpenItBehindTheClose() throws Exception {
        var file = dir.resolve("ledger.mv.db");
        var files = new LedgerFile(file, m -> { });
        try { // a write failed: the store is broken (H2 throws what it was broken by)
            files.current().store().panic(DataUtils.newMVStoreException(DataUtils.ERROR_WRITING_FAILED, "No space left on device"));
        } catch (org.h2.mvstore.MVStoreException expected) {
            // broken now
        }
        var thrown = new AtomicReference<Throwable>();
        Thread caller;
        files.opening.lock(); // the caller passes the closed check, then waits for the lock to open the file again
        try {
            caller = Thread.ofPlatform().start(() -> {
                try {
                    files.maps();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!files.opening.hasQueuedThread(caller) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(files.opening.hasQueuedThread(caller)).isTrue();
            files.close();
        } finally {
            files.opening.unlock();
        }
        caller.join(10_000);

        assertThat(thrown.get()).isInstanceOf(FerryException.class).hasMessageContaining("is closed");
        var again = new LedgerFile(file, m -> { }); // opened behind the close, the file stayed locked by a store no one closes
        again.close();
    }

    @Test // a review: a file removed under the store (to free a full disk) was never noticed; the next failed write opened
          // a new, empty ledger at the path — every completion and parked group forgotten, said "as after a crash"
    void aFileRemovedUnderTheStore_isNotOpenedAnewEmpty_andIsSaid() throws Exception {
        var file = dir.resolve("removed.mv.db");
        var files = new LedgerFile(file, m -> { });
        try {
            files.current().entries().put("e:1:s:a", "completed");
            files.current().store().commit();
            java.nio.file.Files.delete(file); // "free some space": the largest file
            try { // a write fails before any sweep looked
                files.current().store().panic(DataUtils.newMVStoreException(DataUtils.ERROR_WRITING_FAILED, "No space left"));
            } catch (org.h2.mvstore.MVStoreException expected) {
                // broken now
            }
            assertThatThrownBy(files::maps).isInstanceOf(FerryException.class).hasMessageContaining("removed or replaced")
                    .satisfies(e -> assertThat(((FerryException) e).retryable()).as("messages held, not failed").isTrue())
                    // thirty-sixth round: "put the file back first" — but its only copy is the descriptor Ferry holds, gone
                    // once Ferry stops: said how to copy it out before stopping
                    .hasMessageContaining("BEFORE stopping Ferry").hasMessageContaining("/proc/" + ProcessHandle.current().pid()
                            + "/fd/");
            assertThat(java.nio.file.Files.exists(file)).as("no empty ledger made at the path").isFalse();
        } finally {
            files.close();
        }
        var second = dir.resolve("replaced.mv.db");
        var working = new LedgerFile(second, m -> { });
        try { // nothing fails: the sweeper's round finds it
            java.nio.file.Files.delete(second);
            java.nio.file.Files.writeString(second, "another file at the path");
            working.checkSameFile();
            assertThatThrownBy(working::maps).as("refused while the file is not the one opened")
                    .isInstanceOf(FerryException.class).hasMessageContaining("removed or replaced");
        } finally {
            working.close();
        }
    }

    @Test
    void aReopenThatFailsReadingItsMaps_doesNotLeaveTheFileLockedByAStoreNoOneCloses() throws Exception {
        // the store opened again took the file's lock, then reading a map failed (the disk that broke the first store):
        // it was never closed, and every later reopen failed "the file is locked" — claims and completions refused for
        // good, readiness down, until the process was restarted by hand
        new LedgerCommitsTest.HeldFilePath();
        var file = dir.resolve("flaky.mv.db");
        var files = new LedgerFile(file, path -> "ferry-held:" + path, m -> { });
        try {
            files.current().entries().put("e:1:s:a", "completed");
            try {
                files.current().store().panic(DataUtils.newMVStoreException(DataUtils.ERROR_WRITING_FAILED, "Input/output error"));
            } catch (org.h2.mvstore.MVStoreException expected) {
                // broken now
            }
            LedgerCommitsTest.HeldFilePath.failLedgerMapReads = true;
            assertThatThrownBy(files::maps).as("the reopen's map reads fail").isInstanceOf(RuntimeException.class);
            LedgerCommitsTest.HeldFilePath.failLedgerMapReads = false;

            Thread.sleep(1_100); // a reopen is tried again a second after the last
            var fresh = files.maps();
            assertThat(fresh.broken()).as("opened again, not 'the file is locked'").isFalse();
            fresh.entries().put("e:1:s:b", "claimed");
            fresh.store().commit();
            assertThat(fresh.entries()).containsKey("e:1:s:b");
        } finally {
            LedgerCommitsTest.HeldFilePath.failLedgerMapReads = false;
            files.close();
        }
        new LedgerFile(file, m -> { }).close(); // and the file is free once closed
    }

    @Test // a review: an Error as H2 opened the store again (no memory for the header it read) left H2's channel open, and
          // the file's lock with it: every later reopening was refused "the file is locked (another process has it open)"
          // — claims and completions failing for the life of the process
    void anErrorWhileH2OpensTheStoreAgain_doesNotLeaveTheFileLocked_theNextReopeningWorks() throws Exception {
        new LedgerCommitsTest.HeldFilePath(); // registers the scheme
        var file = dir.resolve("no-memory.mv.db");
        var ledger = MvStoreLedger.builder(file).names(path -> "ferry-held:" + path).build();
        try {
            ledger.claim("before", java.time.Duration.ofMinutes(5));
            assertThat(ledger.persist()).isTrue(); // a header on disk for the reopening to read
            try {
                ledger.breakForTest(DataUtils.newMVStoreException(DataUtils.ERROR_WRITING_FAILED, "Input/output error"));
            } catch (org.h2.mvstore.MVStoreException expected) {
                // broken now
            }
            LedgerCommitsTest.HeldFilePath.outOfMemoryOpening.set(true);
            assertThatThrownBy(() -> ledger.claim("during", java.time.Duration.ofMinutes(5)))
                    .as("the reopening's read of the file's header").isInstanceOf(OutOfMemoryError.class).hasMessage("injected");
            assertThat(LedgerCommitsTest.HeldFilePath.outOfMemoryOpening.get()).as("the Error was thrown once").isFalse();
            // at once, before a collection could free what was left open: the JVM gives no second lock on a file it holds
            try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                org.assertj.core.api.Assertions.assertThatCode(() -> channel.tryLock().release())
                        .as("no channel of the failed opening holds the file's lock").doesNotThrowAnyException();
            }

            Thread.sleep(1_100); // a reopening is tried at most once a second
            dev.ferry.domain.idempotency.Claim after = null;
            String refused = null;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (after == null && System.nanoTime() < end) {
                try {
                    after = ledger.claim("after", java.time.Duration.ofMinutes(5));
                } catch (FerryException e) {
                    refused = e.getMessage();
                    Thread.sleep(100);
                }
            }
            assertThat(after).as("opened again, not refused: " + refused)
                    .isInstanceOf(dev.ferry.domain.idempotency.Claim.Acquired.class);
        } finally {
            LedgerCommitsTest.HeldFilePath.outOfMemoryOpening.set(false);
            ledger.close();
        }
    }

    @Test // left last round: H2's lock was let go with the broken store, and while its opening failed (a disk's outage)
          // another process could open the file beside this one — two instances taking each other's claims for their own
    void whileABrokenStoreIsOpenedAgain_anotherProcessCannotOpenTheFile() throws Exception {
        new LedgerCommitsTest.HeldFilePath();
        var file = dir.resolve("window.mv.db");
        var files = new LedgerFile(file, path -> "ferry-held:" + path, m -> { });
        try {
            assertThat(anotherFerryOpens(file)).as("while it is open").startsWith("refused").contains("locked");
            try {
                files.current().store().panic(DataUtils.newMVStoreException(DataUtils.ERROR_WRITING_FAILED, "Input/output error"));
            } catch (org.h2.mvstore.MVStoreException expected) {
                // broken now
            }
            LedgerCommitsTest.HeldFilePath.failLedgerMapReads = true; // the disk still failing: the opening fails
            assertThatThrownBy(files::maps).isInstanceOf(RuntimeException.class);
            assertThat(anotherFerryOpens(file)).as("between the broken store's close and its opening")
                    .startsWith("refused").contains(file.toString());
        } finally {
            LedgerCommitsTest.HeldFilePath.failLedgerMapReads = false;
            files.close();
        }
        assertThat(anotherFerryOpens(file)).as("free once closed").startsWith("opened");
    }

    @Test // a review of the fix: a lock file Ferry cannot make or write (a directory it may not write, one made by a CLI
          // run with sudo) refused starts that worked before there was one
    void aLockFileThatCannotBeMade_leavesTheLedgerToH2sLock_notRefused() throws Exception {
        var file = dir.resolve("unlockable.mv.db");
        java.nio.file.Files.createDirectories(dir.resolve("unlockable.mv.db.lock")); // no file can be written there
        var files = new LedgerFile(file, m -> { });
        try {
            files.current().entries().put("e:1:s:a", "completed");
            files.current().store().commit();
            assertThat(files.current().entries()).containsKey("e:1:s:a");
        } finally {
            files.close();
        }
    }

    @Test // a review of the fix: opened through a link here, by its target in another process: two lock files, neither refused
    void aLedgerOpenedThroughALink_holdsTheLockOfTheFileItself() throws Exception {
        var target = dir.resolve("data").resolve("ledger.mv.db");
        var first = new LedgerFile(target, m -> { }); // made, then closed: the file is there for the link
        first.close();
        var link = java.nio.file.Files.createSymbolicLink(dir.resolve("ledger-link.mv.db"), target);
        var files = new LedgerFile(link, m -> { });
        try {
            assertThatThrownBy(() -> LedgerLock.take(target)).as("the target's lock is held").isInstanceOf(FerryException.class);
        } finally {
            files.close();
        }
        LedgerLock.take(target).close(); // let go at the close
    }

    @Test // a link to a file not made yet (a volume's mount point named in the config): the opening makes the file at the
          // link's target, so the lock is beside that file, whoever names it next
    void aLedgerOpenedThroughALinkToAFileNotMadeYet_holdsTheLockOfTheFileItMakes() throws Exception {
        var target = dir.resolve("volume").resolve("ledger.mv.db");
        java.nio.file.Files.createDirectories(target.getParent());
        var link = java.nio.file.Files.createSymbolicLink(dir.resolve("ledger-link.mv.db"), Path.of("volume", "ledger.mv.db"));
        var files = new LedgerFile(link, m -> { });
        try {
            assertThat(target).as("the opening made the link's target").exists();
            assertThatThrownBy(() -> LedgerLock.take(target)).as("the target's lock is held").isInstanceOf(FerryException.class);
        } finally {
            files.close();
        }
        LedgerLock.take(target).close(); // let go at the close
    }

    /** What another JVM's {@code MvStoreLedger.open(file)} did: "opened …" or "refused: WHY". */
    private static String anotherFerryOpens(Path file) throws Exception {
        String launcher = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        var child = new ProcessBuilder(launcher, "-cp", classpath, LedgerOpenChild.class.getName(), file.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the other JVM finished").isTrue();
            return new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        } finally {
            child.destroyForcibly();
        }
    }

    @Test // a review: H2 keeps why a file would not open in its cause; the start said only "Could not open file
          // ferry-uninterruptible:/data/ferry-ledger.db" (a volume owned by root, a directory, a read-only file system)
    void aFileThatWillNotOpen_saysWhy_underItsOwnName() throws Exception {
        var file = java.nio.file.Files.createDirectories(dir.resolve("ledger.db")); // a directory where the file should be
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LedgerFile(file, m -> { }))
                .isInstanceOf(dev.ferry.domain.model.FerryException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("Is a directory")
                .hasMessageNotContaining("ferry-uninterruptible:");
    }

    @Test
    void aNewFile_isStampedWithItsLayout_andAFileOfALaterLayoutIsRefused_withoutTouchingIt() {
        var file = dir.resolve("ledger.mv.db");
        new LedgerFile(file, m -> { }).close();
        try (var store = new org.h2.mvstore.MVStore.Builder().fileName(file.toString()).open()) {
            org.h2.mvstore.MVMap<String, Long> meta = store.openMap("meta");
            assertThat(meta.get("layout")).isEqualTo(LedgerFile.LAYOUT);
            meta.put("layout", LedgerFile.LAYOUT + 1); // a later Ferry's file, met after a rollback
            store.<String, String>openMap("ledger").put("e:6:orders:k-1", "whatever a later layout writes");
        }

        assertThatThrownBy(() -> new LedgerFile(file, m -> { })).isInstanceOf(FerryException.class)
                .hasMessageContaining("has layout 2, written by a later Ferry").hasMessageContaining("reads layout 1")
                .satisfies(e -> assertThat(((FerryException) e).retryable()).isFalse());
        try (var store = new org.h2.mvstore.MVStore.Builder().fileName(file.toString()).open()) { // closed, and kept as it was
            assertThat(store.<String, Long>openMap("meta").get("layout")).isEqualTo(LedgerFile.LAYOUT + 1);
            assertThat(store.<String, String>openMap("ledger").get("e:6:orders:k-1")).isEqualTo("whatever a later layout writes");
        }
    }
}
