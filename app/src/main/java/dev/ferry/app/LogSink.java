package dev.ferry.app;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.domain.transport.Sink;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs one line per event, at INFO on the logger {@code ferry.sink.NAME}: for trying routes out, and
 * for the local example. The app's logging keeps these loggers at INFO when its general level is
 * above it ({@code FerryLogging}): a sink's output is not one of Ferry's log lines.
 */
final class LogSink implements Sink {

    private static final int MAX_PAYLOAD = 200;
    /** Enough bytes for {@link #MAX_PAYLOAD} characters of any width, whitespace runs aside. */
    private static final int HEAD_BYTES = 4 * 1024;

    private final String name;
    private final Logger log;

    LogSink(String name) {
        this.name = name;
        this.log = LoggerFactory.getLogger("ferry.sink." + name);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome publish(Event event) {
        // the payload's head only: a 64 MiB body was decoded and rewritten whole (hundreds of MB per line, 64 at once)
        byte[] body = event.payload();
        int read = Math.min(body.length, HEAD_BYTES);
        String payload = new String(body, 0, read, StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        if (payload.length() > MAX_PAYLOAD || read < body.length) {
            payload = payload.substring(0, Math.min(payload.length(), MAX_PAYLOAD)) + "...";
        }
        // a sender's key, type or group of 256 KiB, or with a newline (a line of its own made up), went into the line whole
        log.info("{} {}{} {}", printable(event.type()), printable(event.key()),
                event.groupKey() == null ? "" : " group=" + printable(event.groupKey()), Printable.of(payload));
        return Outcome.done();
    }

    private static String printable(String value) {
        return Printable.of(dev.ferry.app.logging.LogContext.cut(value));
    }
}
