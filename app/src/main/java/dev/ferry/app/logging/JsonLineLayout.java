package dev.ferry.app.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * One JSON object per line: {@code time} (ISO-8601, UTC), {@code level}, {@code thread}, {@code logger},
 * {@code message}, then the context Ferry knows (the MDC: {@code source}, {@code message_id},
 * {@code event_key}, {@code group}, {@code trace_id}, ...) and {@code error} with the stack trace when
 * there is one. Nothing in a message can break the line: every control character is escaped.
 */
public final class JsonLineLayout extends LayoutBase<ILoggingEvent> {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    @Override
    public String doLayout(ILoggingEvent event) {
        var sb = new StringBuilder(256);
        sb.append('{');
        field(sb, "time", TIME.format(Instant.ofEpochMilli(event.getTimeStamp())));
        sb.append(',');
        field(sb, "level", event.getLevel().toString());
        sb.append(',');
        field(sb, "thread", event.getThreadName());
        sb.append(',');
        field(sb, "logger", event.getLoggerName());
        sb.append(',');
        field(sb, "message", event.getFormattedMessage());
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null) {
            for (var e : mdc.entrySet()) {
                if (e.getValue() != null) {
                    sb.append(',');
                    field(sb, e.getKey(), e.getValue());
                }
            }
        }
        if (event.getThrowableProxy() != null) {
            sb.append(',');
            field(sb, "error", ThrowableProxyUtil.asString(event.getThrowableProxy()));
        }
        return sb.append('}').append(CoreConstants.LINE_SEPARATOR).toString();
    }

    private static void field(StringBuilder sb, String name, String value) {
        string(sb, name);
        sb.append(':');
        string(sb, value);
    }

    public static void string(StringBuilder sb, String s) {
        sb.append('"');
        if (s != null) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c < 0x20 || c >= 0x7f && c <= 0x9f || c == 0x2028 || c == 0x2029 || bidi(c)
                                || Character.isSurrogate(c) && !validPair(s, i)) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
        }
        sb.append('"');
    }

    /**
     * A bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069): a sender's group key or reason
     * holding one reorders what a terminal shows of `groups list --json` or a log line around it, so a head
     * or a reason reads as another. Escaped, as the text outputs already do.
     */
    static boolean bidi(char c) {
        return c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069;
    }

    /** A surrogate that is half of a well-formed pair (written as is); a lone one is escaped. */
    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
