package dev.ferry.app.logging;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import org.slf4j.MDC;

/**
 * What Ferry knows about the message in hand, put where every log line written meanwhile on the same
 * thread picks it up (SLF4J's MDC): the JSON format writes it as fields.
 */
public final class LogContext {

    public static final String SOURCE = "source";
    public static final String MESSAGE_ID = "message_id";
    public static final String EVENT_KEY = "event_key";
    public static final String GROUP = "group";
    public static final String TRACE_ID = "trace_id";

    private LogContext() {
    }

    /** Sets the delivery's context (and the event's, when there is one); {@link #clear()} takes it off. */
    public static void set(Delivery delivery, Event event) {
        put(SOURCE, delivery.source());
        put(MESSAGE_ID, delivery.id());
        String group = event != null && event.groupKey() != null ? event.groupKey() : delivery.groupKey();
        put(GROUP, group);
        put(EVENT_KEY, event == null ? null : event.key());
    }

    public static void put(String key, String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, cut(value));
        }
    }

    /** The longest value a log line carries whole: a sender's key or id (256 KiB) made a line too long to keep. */
    public static final int MAX_VALUE_LENGTH = 1024;

    /** {@code value}, cut at {@link #MAX_VALUE_LENGTH} characters (never inside a surrogate pair) with its length said. */
    public static String cut(String value) {
        if (value == null || value.length() <= MAX_VALUE_LENGTH) {
            return value;
        }
        int end = Character.isHighSurrogate(value.charAt(MAX_VALUE_LENGTH - 1)) ? MAX_VALUE_LENGTH - 1 : MAX_VALUE_LENGTH;
        return value.substring(0, end) + "… (" + value.length() + " chars)";
    }

    public static void clear() {
        MDC.remove(SOURCE);
        MDC.remove(MESSAGE_ID);
        MDC.remove(EVENT_KEY);
        MDC.remove(GROUP);
        MDC.remove(TRACE_ID);
    }
}
