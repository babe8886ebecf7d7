package dev.ferry.domain.memory;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What an event's attributes weigh in an SQS message as Ferry's SQS sink sends them, so the kit refuses what SQS would
 * by the same count: at most ten attributes of their own, by name in order, each a String (or, text SQS refuses as a
 * String, a {@code Binary.ferry-utf8} of its bytes); the rest, and those of names or values SQS refuses, folded into one
 * {@value #OVERFLOW} attribute as {@code 5:color6:String4:blue...}. Counted as SQS counts: name, type and value in UTF-8.
 */
final class SqsAttributeBytes {

    private static final int MAX = 10;
    private static final String OVERFLOW = "ferry.overflow";
    private static final String STRING = "String";
    private static final String TEXT_BYTES = "Binary.ferry-utf8";
    private static final Pattern VALID_NAME = Pattern.compile("[A-Za-z0-9_\\-]+(\\.[A-Za-z0-9_\\-]+)*");

    private SqsAttributeBytes() {
    }

    /** What the SQS sink does not send on: the marks of a message moved back, a dead letter's identity. */
    private static final java.util.Set<String> NOT_SENT_ON = java.util.Set.of("ferry.origin",
            dev.ferry.domain.transport.DeadLetterAttributes.REDRIVE, dev.ferry.domain.parking.GroupParker.RELEASE_ATTRIBUTE,
            dev.ferry.domain.transport.DeadLetterAttributes.PREFIX + "origin");
    /** What a fresh trace context replaces. */
    private static final java.util.Set<String> STALE_TRACE = java.util.Set.of("traceparent", "tracestate", "AWSTraceHeader");

    /** {@code attributes} as the sink sends them with the trace context it propagates ({@code propagated}) first. */
    static long of(Map<String, String> attributes, Map<String, String> propagated) {
        var first = new java.util.LinkedHashMap<String, String>();
        propagated.forEach((name, value) -> {
            if (validName(name) && !value.isEmpty() && first.size() < MAX - 1) {
                first.put(name, value);
            }
        });
        boolean freshTrace = first.containsKey("traceparent");
        var valid = new TreeMap<String, String>();
        var invalid = new TreeMap<String, String>();
        attributes.forEach((name, value) -> {
            if (!first.containsKey(name) && !(freshTrace && STALE_TRACE.contains(name)) && !NOT_SENT_ON.contains(name)) {
                (validName(name) && !value.isEmpty() ? valid : invalid).put(name, value);
            }
        });
        boolean overflows = !invalid.isEmpty() || first.size() + valid.size() > MAX;
        int room = MAX - first.size() - (overflows ? 1 : 0);
        long bytes = 0;
        for (var e : first.entrySet()) {
            bytes += weight(e.getKey(), e.getValue());
        }
        var fold = new StringBuilder();
        int kept = 0;
        for (var e : valid.entrySet()) {
            if (kept < room) {
                kept++;
                bytes += weight(e.getKey(), e.getValue());
            } else {
                folded(fold, e.getKey(), e.getValue());
            }
        }
        invalid.forEach((name, value) -> folded(fold, name, value));
        return fold.isEmpty() ? bytes : bytes + weight(OVERFLOW, fold.toString());
    }

    /** A name, its type and its value as a message attribute of their own. */
    private static long weight(String name, String value) {
        return utf8(name) + (sqsText(value) ? STRING : TEXT_BYTES).length() + utf8(value);
    }

    private static void folded(StringBuilder fold, String name, String value) {
        boolean text = sqsText(value);
        String shown = text ? value : Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
        for (String part : new String[] {name, text ? STRING : TEXT_BYTES, shown}) {
            fold.append(part.length()).append(':').append(part);
        }
    }

    private static long utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    private static boolean validName(String name) {
        var lower = name.toLowerCase(Locale.ROOT);
        return name.length() <= 256 && VALID_NAME.matcher(name).matches()
                && !lower.startsWith("aws.") && !lower.startsWith("amazon.");
    }

    /** Whether SQS takes every character in a String attribute: tab, LF, CR, U+0020 to U+D7FF, U+E000 to U+FFFD, beyond. */
    private static boolean sqsText(String text) {
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            if (!(c == 0x9 || c == 0xA || c == 0xD || c >= 0x20 && c <= 0xD7FF || c >= 0xE000 && c <= 0xFFFD
                    || c >= 0x10000)) {
                return false;
            }
            i += Character.charCount(c);
        }
        return true;
    }
}
