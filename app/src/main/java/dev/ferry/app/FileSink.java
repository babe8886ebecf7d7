package dev.ferry.app;

import com.fasterxml.jackson.core.JsonFactory;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
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
 * {@code type: file}: appends one line per event to a file and forces it to disk before saying
 * {@code Done}, so an acked message's event is on disk. {@code content: json} (the default) writes
 * a JSON object per line (key, type, group, time, attributes, payload as text); {@code payload}
 * writes the payload as it is (its own newlines included).
 */
final class FileSink implements Sink {

    private static final JsonFactory JSON = new JsonFactory();

    private final String name;
    private final Path path;
    private final FileChannel channel;
    private final boolean json;

    private FileSink(String name, Path path, FileChannel channel, boolean json) {
        this.name = name;
        this.path = path;
        this.channel = channel;
        this.json = json;
    }

    /** Over a channel already open (a test's, to make its writes fail). */
    static FileSink over(String name, Path path, FileChannel channel, boolean json) {
        return new FileSink(name, path, channel, json);
    }

    static FileSink open(String name, Path path, boolean json) {
        try {
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            return new FileSink(name, path, FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND), json);
        } catch (IOException e) {
            throw new IllegalStateException("file sink '" + name + "': cannot open " + path + ": " + e.getMessage(), e);
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
            long end = -1;
            try {
                end = channel.size();
                var buffer = ByteBuffer.wrap(line);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(false);
                return Outcome.done();
            } catch (IOException e) {
                // a line half written, or written and not forced: cut back, or the retry writes after it (twice, or garbled)
                String cut = end < 0 ? "" : truncate(end);
                return Outcome.retry("file sink '" + name + "': cannot write " + path + ": " + e.getMessage() + cut);
            }
        }
    }

    /** Cuts the file back to {@code end}; empty when done, else what went wrong, for the reason. */
    private String truncate(long end) {
        try {
            channel.truncate(end);
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
            g.writeStringField("payload", new String(event.payload(), StandardCharsets.UTF_8));
            g.writeEndObject();
        }
        out.write('\n');
        return out.toByteArray();
    }

    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing is pending: every write was forced before its Done
        }
    }
}
