package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Outage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file sink's line is on disk once, whole, whatever a failed write left behind. */
class FileSinkTest {

    @TempDir
    Path dir;

    private static Event event(String key) {
        return new Event(key, "Test", null, null, ("{\"key\":\"" + key + "\"}").getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** Over a channel already open, waiting a failing write out for the default patience. */
    private static FileSink over(String name, Path path, FileChannel channel, boolean json) {
        return FileSink.over(name, path, channel, json, new Outage(Outage.DEFAULT_PATIENCE));
    }

    private static void deleteRecursively(Path top) throws IOException {
        try (var walk = Files.walk(top)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void aLineWrittenButNotForced_isCutBack_soTheRetryWritesItOnce() throws IOException {
        var file = dir.resolve("out.jsonl");
        var failOnce = new AtomicBoolean(true);
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        var sink = over("out", file, new Failing(real, failOnce), true);
        try {
            assertThat(sink.publish(event("first"))).isEqualTo(Outcome.done());

            // the disk's fault, not the event's: waited out without spending an attempt (a Retry dead-lettered every event
            // of a full disk's minute), and health says why meanwhile
            assertThat(sink.publish(event("second"))).as("the disk failed the force").isInstanceOf(Outcome.Throttled.class);
            assertThat(sink.holdingBack()).hasValueSatisfying(p -> assertThat(p).contains("Input/output error"));
            assertThat(sink.publish(event("second"))).as("the retry").isEqualTo(Outcome.done());
            assertThat(sink.holdingBack()).isEmpty();
        } finally {
            sink.close();
        }

        var lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("\"key\":\"first\"");
        assertThat(lines.get(1)).contains("\"key\":\"second\"").startsWith("{");
    }

    @Test
    void aWriteInterruptedPartWay_isCutBackAllTheSame_soTheRetryWritesItOnce() throws IOException {
        // a stop's deadline interrupts a worker in the middle of a force: the cut-back ran on the still interrupted thread,
        // whose reopened channel closed at once — the line stayed, and the retry wrote it a second time
        var file = dir.resolve("interrupted.jsonl");
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        var sink = over("out", file, new Failing(real, new AtomicBoolean(true),
                new java.nio.channels.ClosedByInterruptException()), true);
        try {
            assertThat(sink.publish(event("first"))).isEqualTo(Outcome.done());
            assertThat(sink.publish(event("second"))).isInstanceOf(Outcome.Throttled.class);
            assertThat(Thread.interrupted()).as("the interrupt is kept for the caller").isTrue();
            assertThat(Files.readAllLines(file)).as("cut back").hasSize(1);
            assertThat(sink.publish(event("second"))).isEqualTo(Outcome.done());
        } finally {
            Thread.interrupted();
            sink.close();
        }
        assertThat(Files.readAllLines(file)).hasSize(2);
    }

    @Test
    void aFileSystemWithoutLocks_isWrittenUnlocked_ratherThanRefusedAtTheStart() throws IOException {
        // NFS without its lock daemon answers ENOLCK: the run would not start where it had before the lock came
        var file = dir.resolve("nolocks.jsonl");
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        var channel = new Failing(real, new AtomicBoolean(false), new IOException("No locks available (injected)"));
        var sink = over("out", file, channel, true);
        try {
            sink.lockAndNote(channel);
            assertThat(channel.isOpen()).isTrue();
            assertThat(sink.publish(event("first"))).isEqualTo(Outcome.done());
        } finally {
            sink.close();
        }
        assertThat(Files.readAllLines(file)).hasSize(1);
        var closed = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        closed.close();
        var again = over("out", file, closed, true);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> again.lockAndNote(closed))
                .as("a channel closed under it is not a file system without locks")
                .isInstanceOf(java.nio.channels.ClosedChannelException.class);
    }

    @Test
    void aWriteRefusedForGood_spendsAnAttempt_insteadOfHoldingEveryRouteForEver() throws IOException {
        // a permission taken away does not pass by waiting: Throttled would keep every route waiting on this sink, for ever
        var file = dir.resolve("denied.jsonl");
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        var sink = over("out", file, new Failing(real, new AtomicBoolean(true),
                new java.nio.file.AccessDeniedException(file.toString())), true);
        try {
            assertThat(sink.publish(event("first"))).isEqualTo(Outcome.done());
            assertThat(sink.publish(event("second"))).isInstanceOf(Outcome.Retry.class);
        } finally {
            sink.close();
        }
    }

    @Test
    void aWriteThatNeverClears_isWaitedOutForTheOutagePatience_thenSpendsItsAttempts() throws IOException {
        // a disk remounted read-only (a quota, "File too large", a dying disk) was answered Throttled on every call,
        // for ever: every event routed to the file held, its FIFO group or Kafka partition stopped for good
        var file = dir.resolve("read-only.jsonl");
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        var failing = new Failing(real, new AtomicBoolean(false), new IOException("Read-only file system (injected)"));
        var now = new AtomicLong();
        var sink = FileSink.over("out", file, failing, true, new Outage(Duration.ofMinutes(15), now::get));
        try {
            assertThat(sink.publish(event("first"))).isEqualTo(Outcome.done());
            failing.writesFailForGood.set(true);
            assertThat(sink.publish(event("second"))).as("waited out, as a disk full for a minute")
                    .isInstanceOf(Outcome.Throttled.class);
            now.addAndGet(Duration.ofMinutes(14).toNanos());
            assertThat(sink.publish(event("second"))).as("within the patience").isInstanceOf(Outcome.Throttled.class);
            now.addAndGet(Duration.ofMinutes(2).toNanos());
            assertThat(sink.publish(event("second"))).as("past the patience: an attempt spent, a dead letter at last")
                    .isInstanceOfSatisfying(Outcome.Retry.class,
                            r -> assertThat(r.reason()).contains("Read-only file system"));
        } finally {
            sink.close();
        }
        assertThat(Files.readAllLines(file)).singleElement().asString().contains("first");
    }

    @Test
    void anOutagePatienceOfNone_spendsTheAttemptsOfAWriteThatFails_atOnce() throws IOException {
        var file = dir.resolve("impatient.jsonl");
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        var failing = new Failing(real, new AtomicBoolean(false), new IOException("Read-only file system (injected)"));
        failing.writesFailForGood.set(true);
        var sink = FileSink.over("out", file, failing, true, new Outage(Duration.ZERO));
        try {
            assertThat(sink.publish(event("first"))).isInstanceOf(Outcome.Retry.class);
        } finally {
            sink.close();
        }
    }

    @Test
    void aDirectoryDeletedUnderTheSink_isMadeAgain_andTheNextLineWrittenInIt() throws IOException {
        // opening made the directories, reopening after the file was gone did not: every later event was answered
        // Retry ("cannot write ... NoSuchFileException") and dead-lettered, until a restart
        var sub = dir.resolve("sub");
        var file = sub.resolve("out.jsonl");
        var sink = writtenOn(file, FileMounts::fileStore);
        deleteRecursively(sub);
        assertThat(sink.publish(event("after"))).isEqualTo(Outcome.done());
        assertThat(sink.holdingBack()).isEmpty();
        assertThat(Files.readAllLines(file)).singleElement().asString().contains("\"key\":\"after\"");
    }

    private final java.util.List<FileSink> opened = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void closeSinks() {
        opened.forEach(FileSink::close);
    }

    /** A sink on {@code file}, its file systems as {@code stores} tells them, that has written its first line. */
    private FileSink writtenOn(Path file, java.util.function.Function<Path, Object> stores) {
        var sink = FileSink.open("out", file, true, Outage.DEFAULT_PATIENCE, stores);
        opened.add(sink);
        assertThat(sink.publish(event("before"))).isEqualTo(Outcome.done());
        return sink;
    }

    /** The file systems paths are on, as a test tells them: {@code mount} and what is under it on {@code volume}'s. */
    private static java.util.function.Function<Path, Object> mountedAt(Path mount, AtomicReference<Object> volume) {
        return p -> p.startsWith(mount.toAbsolutePath()) ? volume.get() : "root";
    }

    @Test
    void aDirectoryGoneWhereAnotherFileSystemIsNow_isNotMadeAgain_soNoLineGoesToTheDiskBelow() throws IOException {
        // a volume unmounted above the sink's directory (umount -l): its directory was made again on the disk below the
        // mount point, lines forced there and answered Done, then hidden once the volume was mounted again: events lost
        var vol = dir.resolve("vol");
        var sub = vol.resolve("sub");
        var file = sub.resolve("out.jsonl");
        var volume = new AtomicReference<Object>("vol");
        var sink = writtenOn(file, mountedAt(vol, volume));
        volume.set("root"); // unmounted: the mount point's empty directory, on the disk below
        deleteRecursively(sub);

        // a last look: refused as "nothing waiting mends", a volume back after two minutes had every event of them
        // dead-lettered, behind their groups' later ones: the event waits, as for a failing disk
        assertThat(sink.publish(event("after"))).isInstanceOf(Outcome.Throttled.class);
        assertThat(sink.holdingBack()).hasValueSatisfying(h -> assertThat(h).contains("another file system")
                .contains("not written there"));
        assertThat(sink.publish(event("after"))).as("nor on the retry").isInstanceOf(Outcome.Throttled.class);
        assertThat(sub).doesNotExist();
        try (var walk = Files.walk(dir)) {
            assertThat(walk.filter(Files::isRegularFile).toList()).as("no line written anywhere").isEmpty();
        }
    }

    @Test // a last look: a volume mounted at the file's own directory, unmounted, left the mount point there, empty, on
          // the disk below — the file was made again in it, lines forced and acknowledged, hidden once the volume was back
    void aFileGoneWhereItsDirectoryIsOnAnotherFileSystemNow_isNotMadeAgain() throws IOException {
        var data = dir.resolve("data");
        var file = data.resolve("out.jsonl");
        var volume = new AtomicReference<Object>("vol");
        var sink = writtenOn(file, mountedAt(data, volume));
        volume.set("root");
        Files.delete(file); // the volume's file out of sight: the mount point's own directory, empty

        assertThat(sink.publish(event("after"))).isInstanceOf(Outcome.Throttled.class);
        assertThat(sink.holdingBack()).hasValueSatisfying(h -> assertThat(h).contains("another file system"));
        assertThat(file).as("not made on the disk below").doesNotExist();
    }

    @Test
    void aVolumeMountedAgainAtTheDirectory_isWrittenTo() throws IOException {
        // a FUSE daemon restarted (NFS, overlay, tmpfs mounted again): a new device, another file store than at the
        // open — refused for ever as "a volume unmounted?", every event waited, then was dead-lettered
        var data = dir.resolve("data");
        var file = data.resolve("out.jsonl");
        var volume = new AtomicReference<Object>("vol");
        var sink = writtenOn(file, mountedAt(data, volume));
        volume.set("vol-2");
        Files.delete(file); // the new mount's directory, without the file

        assertThat(sink.publish(event("after"))).isEqualTo(Outcome.done());
        assertThat(sink.holdingBack()).isEmpty();
        assertThat(Files.readAllLines(file)).singleElement().asString().contains("\"key\":\"after\"");
    }

    @Test
    void aFileGoneWhereNoMountIsAboveItsDirectory_isMadeAgain_andUnderAVolumeMountedThereLateToo() throws IOException {
        // nothing mounted between the directory and the root: nothing to uncover, so nothing refused — a volume mounted
        // at the directory after the open (the sink started before it) was refused for ever, as another file system
        var data = dir.resolve("data");
        var file = data.resolve("out.jsonl");
        var volume = new AtomicReference<Object>("root");
        var sink = writtenOn(file, mountedAt(data, volume));
        Files.delete(file);
        assertThat(sink.publish(event("again"))).as("made again").isEqualTo(Outcome.done());
        assertThat(Files.readAllLines(file)).singleElement().asString().contains("\"key\":\"again\"");

        volume.set("vol"); // mounted late at the directory: the file the sink wrote out of sight
        Files.delete(file);
        assertThat(sink.publish(event("late"))).as("on the volume").isEqualTo(Outcome.done());
        assertThat(sink.holdingBack()).isEmpty();
        assertThat(Files.readAllLines(file)).singleElement().asString().contains("\"key\":\"late\"");
    }

    @Test // a last look: only the file system below the nearest mount was noted — with a volume inside a volume
          // (/srv/data in /srv), the outer one unmounted showed the root disk's, and lines went there, hidden later
    void aVolumeWithinAVolume_bothUnmounted_isNotWrittenUnder() throws IOException {
        var srv = dir.resolve("srv");
        var data = srv.resolve("data");
        var file = data.resolve("ferry").resolve("out.jsonl");
        var outer = new AtomicReference<Object>("disk-a");
        var inner = new AtomicReference<Object>("volume-b");
        java.util.function.Function<Path, Object> stores = p -> p.startsWith(data.toAbsolutePath()) ? inner.get()
                : p.startsWith(srv.toAbsolutePath()) ? outer.get() : "root";
        var sink = writtenOn(file, stores);
        outer.set("root"); // umount -l /srv: /srv/data with it, /srv left empty on the root disk
        inner.set("root");
        deleteRecursively(data);

        assertThat(sink.publish(event("after"))).isInstanceOf(Outcome.Throttled.class);
        assertThat(data).as("not made on the disk below").doesNotExist();
    }

    @Test // a last look: where a reopen landed was not noted — a sink that followed a volume mounted late wrote on the
          // disk below once that volume was unmounted again
    void aVolumeMountedLate_thenUnmounted_isNotWrittenUnder() throws IOException {
        var data = dir.resolve("data");
        var file = data.resolve("out.jsonl");
        var volume = new AtomicReference<Object>("root");
        var sink = writtenOn(file, mountedAt(data, volume));
        volume.set("vol"); // mounted late: the sink follows it
        Files.delete(file);
        assertThat(sink.publish(event("on the volume"))).isEqualTo(Outcome.done());
        volume.set("root"); // unmounted again: the root disk's file shows at the path
        Files.delete(file);
        Files.writeString(file, "what the root disk had\n");

        assertThat(sink.publish(event("after"))).isInstanceOf(Outcome.Throttled.class);
        assertThat(Files.readString(file)).as("not written on the disk below").isEqualTo("what the root disk had\n");
    }

    @Test
    void pastTheOutagePatience_theWarningSaysAttemptsAreSpent_notThatEventsWait() throws IOException {
        // the line was written before the outage decided: it said "events wait and are tried again" while they were
        // spending their attempts and going to the DLQ (and, said at most every 10 s, the change was not said at all)
        var logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(FileSink.class);
        var level = logger.getLevel();
        var lines = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        lines.start();
        logger.addAppender(lines);
        logger.setLevel(ch.qos.logback.classic.Level.WARN);
        var file = dir.resolve("read-only-said.jsonl");
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        var failing = new Failing(real, new AtomicBoolean(false), new IOException("Read-only file system (injected)"));
        failing.writesFailForGood.set(true);
        var now = new AtomicLong();
        var sink = FileSink.over("out", file, failing, true, new Outage(Duration.ofMinutes(15), now::get));
        try {
            assertThat(sink.publish(event("first"))).isInstanceOf(Outcome.Throttled.class);
            now.addAndGet(Duration.ofMinutes(14).toNanos()); // tried again meanwhile, as a held event is: one outage
            assertThat(sink.publish(event("first"))).isInstanceOf(Outcome.Throttled.class);
            now.addAndGet(Duration.ofMinutes(2).toNanos());
            assertThat(sink.publish(event("first"))).isInstanceOf(Outcome.Retry.class);
        } finally {
            sink.close();
            logger.detachAppender(lines);
            logger.setLevel(level);
        }
        assertThat(lines.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .satisfiesExactly(waiting -> assertThat(waiting).contains("events wait and are tried again"),
                        spent -> assertThat(spent).contains("Read-only file system").doesNotContain("events wait")
                                .contains("failed for longer than the outage-patience")
                                .contains("spend their attempts").contains("dead-lettered"));
    }

    /** A real channel whose second force fails once, as a disk may (EIO), after the bytes were written. */
    private static final class Failing extends FileChannel {
        private final FileChannel real;
        private final AtomicBoolean failOnce;
        private final IOException failure;
        private int forces;
        /** The next write stops half way (a full disk) and throws; the cut-back after it fails too. */
        final AtomicBoolean tearNextWrite = new AtomicBoolean();
        final AtomicBoolean truncateFails = new AtomicBoolean();
        /** Every write fails with the failure given (a disk remounted read-only), until cleared. */
        final AtomicBoolean writesFailForGood = new AtomicBoolean();

        Failing(FileChannel real, AtomicBoolean failOnce) {
            this(real, failOnce, new IOException("Input/output error (injected)"));
        }

        Failing(FileChannel real, AtomicBoolean failOnce, IOException failure) {
            this.real = real;
            this.failOnce = failOnce;
            this.failure = failure;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            if (++forces == 2 && failOnce.getAndSet(false)) {
                if (failure instanceof java.nio.channels.ClosedByInterruptException) { // as the JDK's channel does
                    Thread.currentThread().interrupt();
                    close();
                }
                throw failure;
            }
            real.force(metaData);
        }

        @Override public int read(ByteBuffer dst) throws IOException { return real.read(dst); }
        @Override public long read(ByteBuffer[] dsts, int offset, int length) throws IOException { return real.read(dsts, offset, length); }
        @Override public int write(ByteBuffer src) throws IOException {
            if (writesFailForGood.get()) {
                throw failure;
            }
            if (tearNextWrite.getAndSet(false)) {
                var half = src.duplicate();
                half.limit(src.position() + src.remaining() / 2);
                real.write(half);
                truncateFails.set(true);
                throw new IOException("No space left on device (injected)");
            }
            return real.write(src);
        }
        @Override public long write(ByteBuffer[] srcs, int offset, int length) throws IOException { return real.write(srcs, offset, length); }
        @Override public long position() throws IOException { return real.position(); }
        @Override public FileChannel position(long newPosition) throws IOException { real.position(newPosition); return this; }
        @Override public long size() throws IOException { return real.size(); }
        @Override public FileChannel truncate(long size) throws IOException {
            if (truncateFails.getAndSet(false)) {
                throw new IOException("Input/output error (injected, on the cut-back)");
            }
            real.truncate(size);
            return this;
        }
        @Override public long transferTo(long position, long count, WritableByteChannel target) throws IOException { return real.transferTo(position, count, target); }
        @Override public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException { return real.transferFrom(src, position, count); }
        @Override public int read(ByteBuffer dst, long position) throws IOException { return real.read(dst, position); }
        @Override public int write(ByteBuffer src, long position) throws IOException { return real.write(src, position); }
        @Override public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException { return real.map(mode, position, size); }
        @Override public FileLock lock(long position, long size, boolean shared) throws IOException { return real.lock(position, size, shared); }
        @Override public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            if (failure.getMessage() != null
                    && failure.getMessage().startsWith("No locks available")) {
                throw failure;
            }
            return real.tryLock(position, size, shared);
        }
        @Override protected void implCloseChannel() throws IOException { real.close(); }
    }

    @Test
    void aWriteOnAnInterruptedThread_leavesTheSinkWriting_andTheFlagSet() throws IOException {
        // the channel closed itself under the interrupted write: that event was retried, and every later one failed
        // until a restart
        var file = dir.resolve("interrupted.jsonl");
        var sink = FileSink.open("out", file, true);
        try {
            Thread.currentThread().interrupt();
            var outcome = sink.publish(event("while-interrupted"));
            assertThat(Thread.interrupted()).as("the caller's flag kept").isTrue();
            assertThat(outcome).isEqualTo(Outcome.done());
            assertThat(sink.publish(event("after"))).isEqualTo(Outcome.done());
        } finally {
            Thread.interrupted();
            sink.close();
        }
        assertThat(Files.readAllLines(file)).hasSize(2);
    }

    @Test
    void aPayloadThatIsNotUtf8_isWrittenAsBase64_notReplacedByQuestionMarks() throws IOException {
        var file = dir.resolve("binary.jsonl");
        var sink = FileSink.open("out", file, true);
        byte[] binary = {(byte) 0xFF, (byte) 0xFE, 0, 65};
        try {
            assertThat(sink.publish(new Event("bin", "Test", null, null, binary, Map.of()))).isEqualTo(Outcome.done());
        } finally {
            sink.close();
        }
        var line = Files.readAllLines(file).getFirst();
        assertThat(line).doesNotContain("\"payload\":")
                .contains("\"payload_base64\":\"" + java.util.Base64.getEncoder().encodeToString(binary) + "\"");
    }

    @Test
    void aLastLineLeftWithoutItsNewline_isEnded_soTheNextEventIsALineOfItsOwn() throws IOException {
        // a kill in the middle of a large write leaves part of a line, never reported written; the event comes again
        var file = dir.resolve("torn.jsonl");
        Files.writeString(file, "{\"key\":\"whole\"}\n{\"key\":\"tor");
        var sink = FileSink.open("out", file, true);
        try {
            assertThat(sink.publish(event("next"))).isEqualTo(Outcome.done());
        } finally {
            sink.close();
        }
        assertThat(Files.readAllLines(file)).hasSize(3).satisfies(lines -> {
            assertThat(lines.get(0)).isEqualTo("{\"key\":\"whole\"}");
            assertThat(lines.get(1)).as("the fragment, on its own line").isEqualTo("{\"key\":\"tor");
            assertThat(lines.get(2)).startsWith("{\"key\":\"next\"");
        });
    }

    @Test
    void aWholeLineWhoseForceFailed_andWhoseCutBackFailedToo_isNotWrittenTwice() throws IOException {
        var file = dir.resolve("twice.jsonl");
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        var failing = new Failing(real, new AtomicBoolean(true));
        failing.truncateFails.set(true);
        var sink = over("out", file, failing, true);
        try {
            assertThat(sink.publish(event("first"))).isEqualTo(Outcome.done());
            assertThat(sink.publish(event("second"))).as("its force fails, then its cut-back").isInstanceOf(Outcome.Throttled.class);
            assertThat(sink.publish(event("second"))).as("the retry").isEqualTo(Outcome.done());
        } finally {
            sink.close();
        }
        assertThat(Files.readAllLines(file)).hasSize(2).last().asString().startsWith("{\"key\":\"second\"");
    }

    @Test
    void aLineTornByAFailedWrite_whoseCutBackFailedToo_isCutBeforeTheNextWrite() throws IOException {
        var file = dir.resolve("torn-open.jsonl");
        var real = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        var failing = new Failing(real, new AtomicBoolean(false));
        var sink = over("out", file, failing, true);
        try {
            assertThat(sink.publish(event("first"))).isEqualTo(Outcome.done());
            failing.tearNextWrite.set(true);
            assertThat(sink.publish(event("second"))).isInstanceOf(Outcome.Throttled.class);
            assertThat(sink.holdingBack()).hasValueSatisfying(p -> assertThat(p).contains("cutting the failed line back failed"));

            assertThat(sink.publish(event("second"))).as("the retry, on the channel still open").isEqualTo(Outcome.done());
        } finally {
            sink.close();
        }
        var lines = Files.readAllLines(file);
        assertThat(lines).as("the fragment cut back before the retry").hasSize(2);
        assertThat(lines.get(1)).as("the retry's line, whole").startsWith("{\"key\":\"second\"").endsWith("}");
    }

    @Test
    void aPublishAfterTheClose_saysTheSinkIsClosed_insteadOfWaitingForEver() throws IOException {
        var sink = FileSink.open("out", dir.resolve("closed.jsonl"), true);
        sink.close();

        assertThat(sink.publish(event("late"))).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("closed"));
    }

    @Test
    void aSecondWriterOfTheSameFile_isRefused_andARotatedFileIsFollowed() throws IOException {
        // two sinks (or processes) on one path each cut the file back when their own write failed, cutting the other's
        // acked lines; a file renamed away by logrotate took every later line while the path had a new, empty file
        var file = dir.resolve("shared.jsonl");
        var sink = FileSink.open("a", file, true);
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> FileSink.open("b", file, true))
                    .hasMessageContaining("another writer");
            assertThat(sink.publish(event("before"))).isEqualTo(Outcome.done());
            Files.move(file, dir.resolve("shared.jsonl.1"));
            assertThat(sink.publish(event("after"))).isEqualTo(Outcome.done());
        } finally {
            sink.close();
        }
        assertThat(Files.readAllLines(dir.resolve("shared.jsonl.1"))).singleElement().asString().contains("before");
        assertThat(Files.readAllLines(file)).singleElement().asString().contains("after");
    }

    @Test
    void aPipe_isRefusedAtOpen_notWrittenAndThrottledForEver() throws Exception {
        // /dev/stdout in a container is a pipe: opened, every write failed to seek or sync and was answered throttled
        Path fifo = dir.resolve("events.pipe");
        var mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)
                && mkfifo.exitValue() == 0, "mkfifo is available");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FileSink.open("out", fifo, true))
                .hasMessageContaining("cannot open " + fifo).hasMessageContaining("not a regular file")
                .hasMessageContaining("type log");
    }
}
