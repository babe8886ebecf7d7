package dev.ferry.adapters.sqs;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The SQS source's log lines from WARNING up, formatted, while open (the tests' logging keeps
 * SEVERE only); closing puts the logger back as it was.
 */
final class CapturedLog extends Handler implements AutoCloseable {

    private final Logger logger = Logger.getLogger(SqsSource.class.getName());
    private final Level level = logger.getLevel();
    final List<String> lines = new CopyOnWriteArrayList<>();

    CapturedLog() {
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
