package dev.ferry.app;

import com.fasterxml.jackson.core.JsonFactory;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Outage;
import dev.ferry.domain.transport.Sink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code type: file}: appends one line per event to a file and forces it to disk before saying {@code Done}, so an
 * acked message's event is on disk. {@code content: json} (the default) writes a JSON object per line (key, type,
 * group, time, attributes, payload as text — or, when the payload is not UTF-8, {@code payload_base64});
 * {@code payload} writes the payload as it is (its own newlines included).
 *
 * <p>A write that fails (a full disk, an I/O error) is the file's fault, not the event's: it is answered
 * {@code Throttled}, so the event waits without spending its attempts (a disk full for a minute dead-lettered every
 * event of that minute), and health names the sink while it lasts — for the {@code outage-patience} at most, as the
 * other sinks wait out theirs: then {@code Retry}.
 */
final class FileSink implements Sink {

    private static final JsonFactory JSON = new JsonFactory();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FileSink.class);
    static final java.time.Duration RETRY_AFTER = java.time.Duration.ofSeconds(1); // an event's wait after a failed write
    private static final long LOG_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    private final String name;
    private final Path path;
    private FileChannel channel;
    private final boolean json;
    private final Outage outage; // a write that keeps failing waited out so long (read-only held every route for ever)
    private boolean closed;
    private volatile String failing; // what the last write failed with; null once one worked
    private long lastLogNanos = System.nanoTime() - LOG_EVERY_NANOS;
    private boolean saidSpent; // whether the last warning said attempts are spent
    private FileMounts mounts = new FileMounts(FileMounts::fileStore); // where its directory is (see FileMounts)

    private FileSink(String name, Path path, FileChannel channel, boolean json, Outage outage) {
        this.name = name;
        this.path = path.toAbsolutePath();
        this.channel = channel;
        this.json = json;
        this.outage = outage;
    }

    static FileSink over(String name, Path path, FileChannel channel, boolean json, Outage outage) { // a test's channel
        return new FileSink(name, path, channel, json, outage);
    }

    static FileSink open(String name, Path path, boolean json) {
        return open(name, path, json, Outage.DEFAULT_PATIENCE);
    }

    static FileSink open(String name, Path path, boolean json, java.time.Duration outagePatience) {
        return open(name, path, json, outagePatience, FileMounts::fileStore);
    }

    static FileSink open(String name, Path path, boolean json, java.time.Duration outagePatience,
            java.util.function.Function<Path, Object> storeOf) { // the file systems paths are on: a test's own
        path = path.toAbsolutePath(); // made again where it is opened: a relative one, against a working directory
        // replaced under the process, was made again under user.dir and opened against the one deleted
        try {
            if (Files.exists(path) && !Files.isRegularFile(path)) {
                // a pipe or a terminal (/dev/stdout in a container) cannot be sought or synced: every write failed and
                // was answered throttled, for ever — the route wedged, nothing dead-lettered
                throw new IOException("not a regular file (a pipe, a terminal, a device): a file sink seeks and syncs "
                        + "its file; for standard output use a sink of type log");
            }
            Path dir = path.getParent();
            Files.createDirectories(dir);
            var sink = new FileSink(name, path, openForAppending(path), json, new Outage(outagePatience));
            sink.mounts = new FileMounts(storeOf);
            sink.mounts.note(dir);
            try {
                sink.lockAndNote(sink.channel);
            } catch (IOException | RuntimeException e) {
                sink.channel.close();
                throw e;
            }
            sink.endPartialLineOrLater(sink.channel);
            return sink;
        } catch (IOException e) {
            throw new IllegalStateException("file sink '" + name + "': cannot open " + path + ": " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    // Takes the file's lock and notes which file it is. A second writer (another sink on the same path, another
    // process) would cut the first one's lines back when its own write failed; a file renamed away (log rotation) would
    // take the lines while the path has a new file.
    void lockAndNote(FileChannel opened) throws IOException {
        boolean locked;
        try {
            locked = opened.tryLock() != null;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            locked = false;
        } catch (java.nio.channels.ClosedChannelException closed) { // interrupted, closed under it: not a lock refused
            throw closed;
        } catch (IOException unsupported) { // a file system without locks (NFS without its lock daemon): written unlocked
            LOG.warn("file sink '{}': cannot lock {} ({}); writing it without a lock — keep other writers off it", name,
                    path, unsupported.toString());
            locked = true;
        }
        if (!locked) {
            opened.close();
            throw new IOException("another writer has it open (another sink, or another process): two writers would cut "
                    + "each other's lines back");
        }
        fileKey = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    }

    // The file, to be read and written at its end. One descriptor for both: the lock is a POSIX lock on Linux, and the
    // kernel drops all of a process's locks on a file when any descriptor of it is closed — a second channel opened to
    // read the file's last byte and closed again left every restart on a non-empty file unlocked, and a second
    // instance writing it (each cutting the other's acknowledged lines back on a failed write). Not opened to append
    // (Java refuses reading with it): every write starts at the end. A file this process may write but not read is
    // opened to append, as before, its last line not looked at.
    private static FileChannel openForAppending(Path path) throws IOException {
        try {
            return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (java.nio.file.AccessDeniedException notReadable) {
            return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        }
    }

    // Ends a last line left without its newline — a write cut short by a kill, or a failed cut-back — so that the next
    // event starts a line of its own instead of being appended to the fragment (one garbled line). The fragment stays,
    // on a line of its own: it was never reported written, and it may be someone else's. Under the lock, or before.
    void endPartialLine(FileChannel opened) throws IOException {
        long size = opened.size();
        if (size == 0) {
            return;
        }
        var last = ByteBuffer.allocate(1);
        try { // through the locked channel itself: closing another descriptor of the file would drop the lock
            if (opened.read(last, size - 1) != 1 || last.get(0) == '\n') {
                return;
            }
        } catch (IOException | java.nio.channels.NonReadableChannelException unreadable) { // not looked at, as before
            LOG.warn("file sink '{}': cannot read the end of {} to see whether its last line is whole ({}); writing on",
                    name, path, unreadable.toString());
            return;
        }
        writeAll(opened, newline());
        opened.force(false);
        LOG.warn("file sink '{}': {} ended in a line without its newline (a write cut short); it is ended there, and the "
                + "next event starts a line of its own", name, path);
    }

    private void endPartialLineOrLater(FileChannel opened) { // or, when that fails (a full disk), before the next write
        try {
            endPartialLine(opened);
        } catch (IOException e) {
            LOG.warn("file sink '{}': cannot end the partial last line of {} ({}); tried again before the next write",
                    name, path, e.toString());
            endLineFirst = true;
        }
    }

    private boolean endLineFirst; // the file ends in part of a line whose newline could not be written at open
    // Where a failed write's line begins, when cutting it back failed too (-1: none), and in which file: cut back
    // before the next write — appended after it, the retry was glued to half a line, or, after a whole line whose force
    // failed, written twice.
    private long cutTo = -1;
    private Object cutFile;
    private Object fileKey; // the file the channel writes (its inode), when known: another one at the path: rotated

    private boolean rotated() { // whether the path names another file than the one open now (renamed away, deleted)
        if (fileKey == null) {
            return false;
        }
        try {
            return !fileKey.equals(Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class).fileKey());
        } catch (IOException gone) {
            return true;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome publish(Event event) {
        byte[] line;
        try {
            line = json ? jsonLine(event) : payloadLine(event);
        } catch (IOException e) {
            return Outcome.reject("file sink '" + name + "': cannot write event " + event.key() + " as JSON: " + e.getMessage());
        }
        synchronized (this) {
            if (closed) { // not a disk that may come back: an attempt spent, and in the end a dead letter that says so
                return Outcome.retry("file sink '" + name + "' is closed");
            }
            // a channel written by an interrupted thread closes itself (for every later write), and half a line stays
            boolean interrupted = Thread.interrupted();
            long end = -1;
            try {
                var out = channel();
                if (cutTo >= 0) {
                    if (java.util.Objects.equals(cutFile, fileKey)) { // not when rotated away: that file keeps it
                        out.truncate(cutTo); // fails again: nothing is written, the event waits
                    }
                    cutTo = -1;
                }
                if (endLineFirst) {
                    writeAll(out, newline());
                    endLineFirst = false;
                }
                end = out.size();
                writeAll(out, ByteBuffer.wrap(line));
                out.force(false);
                failing = null;
                outage.worked(event.key());
                return Outcome.done();
            } catch (IOException e) {
                // a line half written, or written and not forced: cut back, or the retry writes after it (twice, or garbled).
                // Not on an interrupted thread (a stop's deadline, mid-write): the channel reopened would close at once
                interrupted |= Thread.interrupted();
                String cut = end < 0 ? "" : truncate(end);
                if (!cut.isEmpty() && cutTo < 0) {
                    cutTo = end; // what is past it is this failed line (the lock keeps other writers off): cut first
                    cutFile = fileKey;
                }
                failing = e + cut;
                String reason = "file sink '" + name + "': cannot write " + path + ": " + e + cut;
                // nothing waiting mends (a permission taken away, the directory gone): attempts spent, no route held
                boolean forGood = e instanceof java.nio.file.AccessDeniedException
                        || e instanceof java.nio.file.NoSuchFileException
                        || e instanceof java.nio.file.NotDirectoryException
                        || e instanceof java.nio.file.FileSystemLoopException;
                // a full disk is waited out; read-only, a quota, "File too large" never clear: spent after the patience
                var outcome = forGood ? Outcome.retry(reason) : outage.failed(event.key(), reason, RETRY_AFTER);
                long now = System.nanoTime();
                if (now - lastLogNanos >= LOG_EVERY_NANOS || outcome instanceof Outcome.Retry && !saidSpent) {
                    lastLogNanos = now; // and at once when attempts begin to be spent: "events wait" hid the DLQ
                    saidSpent = outcome instanceof Outcome.Retry;
                    LOG.warn("file sink '{}': cannot write {}: {}{}; {} (said at most every 10 s)", name, path, e, cut,
                            !saidSpent ? "events wait and are tried again" : (forGood ? "nothing waiting mends"
                            : "the writes have failed for longer than the outage-patience")
                            + ": events spend their attempts and are dead-lettered");
                }
                return outcome;
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    @Override
    public java.util.Optional<String> holdingBack() {
        return java.util.Optional.ofNullable(failing).map(problem -> "cannot write " + path + ": " + problem);
    }

    // The channel, opened again when something closed it (an interrupt during a write) or the file was rotated away
    // (the lines go to the file the path names); under the lock.
    private FileChannel channel() throws IOException {
        if (closed) {
            return channel;
        }
        boolean rotated = rotated();
        if (!channel.isOpen() || rotated) {
            if (rotated) {
                channel.close();
                mounts.makeAgain(path.getParent()); // deleted or moved too: made again, if allowed
            }
            var opened = openForAppending(path);
            if (fileKey != null) {
                try {
                    lockAndNote(opened);
                } catch (IOException | RuntimeException e) { // not left open, holding the lock every later reopen needs
                    opened.close();
                    throw e;
                }
            }
            endPartialLineOrLater(opened);
            channel = opened;
            if (rotated) {
                mounts.note(path.getParent()); // a volume mounted late: unmounted, what shows is refused
            }
        }
        return channel;
    }

    private static ByteBuffer newline() {
        return ByteBuffer.wrap(new byte[] {'\n'});
    }

    private static void writeAll(FileChannel out, ByteBuffer bytes) throws IOException { // at the end (the lock holds)
        out.position(out.size());
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
    }

    /** Cuts the file back to {@code end}; empty when done, else what went wrong, for the reason. */
    private String truncate(long end) {
        try {
            channel().truncate(end);
            return "";
        } catch (IOException e) {
            return "; cutting the failed line back failed too: " + e.getMessage();
        }
    }

    private static byte[] payloadLine(Event event) {
        byte[] payload = event.payload();
        byte[] line = java.util.Arrays.copyOf(payload, payload.length + 1);
        line[payload.length] = '\n';
        return line;
    }

    private static byte[] jsonLine(Event event) throws IOException {
        var out = new ByteArrayOutputStream(event.payload().length + 128);
        try (var g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("key", event.key());
            g.writeStringField("type", event.type());
            if (event.groupKey() != null) {
                g.writeStringField("group", event.groupKey());
            }
            if (event.occurredAt().isPresent()) {
                g.writeStringField("time", event.occurredAt().get().toString());
            }
            if (!event.attributes().isEmpty()) {
                g.writeObjectFieldStart("attributes");
                for (var a : event.attributes().entrySet()) {
                    g.writeStringField(a.getKey(), a.getValue());
                }
                g.writeEndObject();
            }
            var text = utf8(event.payload());
            if (text != null) {
                g.writeStringField("payload", text);
            } else { // as text, its bytes would be replaced by U+FFFD, and the event acked: lost
                g.writeStringField("payload_base64", java.util.Base64.getEncoder().encodeToString(event.payload()));
            }
            g.writeEndObject();
        }
        out.write('\n');
        return out.toByteArray();
    }

    private static String utf8(byte[] payload) { // the payload as text, or null when it is not UTF-8
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException nothingPending) { // every write was forced before its Done
        }
    }
}
