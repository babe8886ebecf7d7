package dev.ferry.domain.listener;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The listener's log lines (or another logger's) from WARNING up, formatted, while open (the tests' logging keeps
 * SEVERE only); closing puts the logger back as it was.
 */
public final class CapturedLog extends Handler implements AutoCloseable {

    private final Logger logger;
    private final Level level;
    public final List<String> lines = new CopyOnWriteArrayList<>();

    CapturedLog() {
        this(Listener.class.getName());
    }

    /** The lines of the logger named {@code loggerName}. */
    public CapturedLog(String loggerName) {
        logger = Logger.getLogger(loggerName);
        level = logger.getLevel();
        logger.setLevel(Level.WARNING);
        logger.addHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
        lines.add(r.getParameters() == null ? String.valueOf(r.getMessage())
                : java.text.MessageFormat.format(String.valueOf(r.getMessage()), r.getParameters()));
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(level);
    }
}
