package dev.ferry.app.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The packaged app's logging, from the configuration's {@code logging:} section: every line (Ferry's,
 * the domain's {@code System.Logger}, the adapters' SLF4J, third-party {@code java.util.logging}) goes
 * through Logback to standard output, as text or as one JSON object per line.
 *
 * <p>A user who brings a Logback file ({@code -Dlogback.configurationFile=...}) keeps it: Ferry then
 * changes nothing.
 */
public final class FerryLogging {

    public static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error", "off");
    public static final Set<String> FORMATS = Set.of("text", "json");
    /** ISO timestamp with offset, level, thread, logger, message. */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX, UTC} %-5level [%thread] %logger{36} - "
            + "%replace(%replace(%msg){'[\\r\\n]', '\\\\n'}){'[\\p{Cc}\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]', '\uFFFD'}%n";
    /** Libraries that talk a lot at INFO (Kafka prints its whole configuration): WARN unless the file says otherwise. */
    static final List<String> NOISY = List.of("org.apache.kafka", "org.elasticmq", "org.apache.pekko", "software.amazon.awssdk",
            "io.netty", "org.eclipse.jetty", "com.amazonaws", "org.h2", "org.apache.http");
    /** The domain's own dead-letter line: the app writes one of its own with the message's context. */
    static final String DOMAIN_DEAD_LETTERS = "dev.ferry.domain.listener.DeadLetters";
    /** The parent of the {@code log} sinks' loggers, {@code ferry.sink.NAME}: one line per event, at INFO. */
    static final String SINK_LOGGERS = "ferry.sink";

    private FerryLogging() {
    }

    /** What the configuration asks for. */
    public record Settings(String level, String format, Map<String, String> levels) {
        public static final Settings DEFAULT = new Settings("info", "text", Map.of());

        public Settings {
            levels = Map.copyOf(new LinkedHashMap<>(levels));
        }
    }

    /** Whether the user configures Logback with a file of their own (then Ferry leaves it alone). */
    static boolean userConfigured() {
        return System.getProperty("logback.configurationFile") != null;
    }

    /**
     * Applies {@code settings}, lines to standard output ({@code ferry run}) or standard error (the
     * other commands, whose answers are on standard output); false when logging is not Logback's
     * or the user configured it.
     */
    public static boolean apply(Settings settings, boolean toStandardOutput) {
        if (userConfigured() || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return false;
        }
        configure(context, settings, toStandardOutput);
        return true;
    }

    static void configure(LoggerContext context, Settings settings, boolean toStandardOutput) {
        routeJavaUtilLogging(context);
        var root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        var encoder = new LayoutWrappingEncoder<ILoggingEvent>();
        encoder.setContext(context);
        encoder.setCharset(StandardCharsets.UTF_8);
        encoder.setLayout(layout(context, settings.format()));
        encoder.start();
        var console = new ConsoleAppender<ILoggingEvent>();
        console.setContext(context);
        console.setName("console");
        console.setTarget(toStandardOutput ? "System.out" : "System.err");
        console.setEncoder(encoder);
        console.start();
        root.addAppender(console);
        root.setLevel(Level.toLevel(settings.level(), Level.INFO));
        for (String noisy : NOISY) {
            context.getLogger(noisy).setLevel(Level.WARN);
        }
        context.getLogger(DOMAIN_DEAD_LETTERS).setLevel(Level.OFF);
        var sinkLines = context.getLogger(SINK_LOGGERS);
        sinkLines.setLevel(null); // inherits, unless this run asks otherwise below (configure runs again at ferry run)
        settings.levels().forEach((name, level) -> context.getLogger(name).setLevel(Level.toLevel(level, Level.INFO)));
        if (!settings.levels().containsKey(SINK_LOGGERS) && sinkLines.getEffectiveLevel().isGreaterOrEqual(Level.WARN)) {
            // level: warn (or levels: {ferry: warn}) to quiet Ferry's own lines silenced the log sink too: its events
            // were acked and no line written. What a log sink writes is its output; a level for ferry.sink or
            // ferry.sink.NAME in levels: still turns it down
            sinkLines.setLevel(Level.INFO);
        }
    }

    private static Layout<ILoggingEvent> layout(LoggerContext context, String format) {
        Layout<ILoggingEvent> layout;
        if ("json".equals(format)) {
            layout = new JsonLineLayout();
        } else {
            var pattern = new PatternLayout();
            pattern.setPattern(TEXT_PATTERN);
            layout = pattern;
        }
        layout.setContext(context);
        layout.start();
        return layout;
    }

    /** java.util.logging into SLF4J; levels set in Logback are told to JUL, so filtered lines cost nothing. */
    private static void routeJavaUtilLogging(LoggerContext context) {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
        if (context.getCopyOfListenerList().stream().noneMatch(l -> l instanceof LevelChangePropagator)) {
            var propagator = new LevelChangePropagator();
            propagator.setContext(context);
            propagator.setResetJUL(true);
            propagator.start();
            context.addListener(propagator);
        }
    }
}
