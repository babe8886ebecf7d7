package dev.ferry.adapters.sqs;

import dev.ferry.domain.transport.DeadLetterAttributes;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * Translates between Ferry's string attributes and SQS message attributes, within SQS's rules:
 * at most 10 per message, names of {@code [A-Za-z0-9_.-]} not starting with {@code AWS.} or
 * {@code Amazon.}, no empty values. What does not fit is folded into one {@value #OVERFLOW}
 * attribute rather than dropped, and unfolded again on redrive and by Ferry's SQS source; a value (or a fold)
 * that SQS refuses as a String goes as {@link AttributeText#TYPE} bytes.
 */
final class MessageAttributes {

    /** SQS's limit of message attributes per message. */
    static final int MAX = 10;
    /** Attributes that did not fit, length-prefixed: {@code 5:color6:String4:blue...}. */
    static final String OVERFLOW = "ferry.overflow";

    private static final Pattern VALID_NAME = Pattern.compile("[A-Za-z0-9_\\-]+(\\.[A-Za-z0-9_\\-]+)*");

    private MessageAttributes() {
    }

    /** Message attributes as the core sees them: strings ({@link AttributeText}'s too), other binary values in Base64. */
    static Map<String, String> toStrings(Map<String, MessageAttributeValue> attributes, Map<String, String> into) {
        for (var e : attributes.entrySet()) {
            var v = e.getValue();
            String text = AttributeText.text(v);
            if (text != null) {
                into.put(e.getKey(), text);
            } else if (v.binaryValue() != null) {
                into.put(e.getKey(), Base64.getEncoder().encodeToString(v.binaryValue().asByteArray()));
            }
        }
        return into;
    }

    /** What the attributes weigh in a request, as SQS counts them: name, type and value, in UTF-8 bytes. */
    static int bytes(Map<String, MessageAttributeValue> attributes) {
        int bytes = 0;
        for (var e : attributes.entrySet()) {
            var v = e.getValue();
            bytes += utf8Length(e.getKey()) + utf8Length(v.dataType())
                    + (v.stringValue() != null ? utf8Length(v.stringValue()) : v.binaryValue() != null ? v.binaryValue().asByteBuffer().remaining() : 0);
        }
        return bytes;
    }

    private static int utf8Length(String s) {
        int n = s.length();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x800) {
                n += Character.isSurrogate(c) ? 1 : 2; // a surrogate pair is four bytes: two chars, one extra each
            } else if (c >= 0x80) {
                n += 1;
            }
        }
        return n;
    }

    static MessageAttributeValue string(String value) {
        return MessageAttributeValue.builder().dataType("String").stringValue(value).build();
    }

    /**
     * A dead-letter copy's attributes: Ferry's first (reason, the queue's name, the source's name
     * when it differs, receive count), then the originals, folding what does not fit.
     */
    static Map<String, MessageAttributeValue> forDeadLetter(Map<String, MessageAttributeValue> originals, String reason,
                                                            String sourceQueue, String sourceName, int receiveCount) {
        return forDeadLetter(originals, reason, sourceQueue, sourceName, receiveCount, null);
    }

    /** {@link #forDeadLetter}, with the copied message's identity ({@link #DEAD_LETTER_ORIGIN}) unless null. */
    static Map<String, MessageAttributeValue> forDeadLetter(Map<String, MessageAttributeValue> originals, String reason,
                                                            String sourceQueue, String sourceName, int receiveCount,
                                                            String origin) {
        var ferry = new LinkedHashMap<String, MessageAttributeValue>();
        ferry.put(DeadLetterAttributes.REASON, string(reason));
        ferry.put(DeadLetterAttributes.SOURCE, string(sourceQueue));
        if (!sourceName.equals(sourceQueue)) {
            ferry.put(DeadLetterAttributes.SOURCE_NAME, string(sourceName));
        }
        ferry.put(DeadLetterAttributes.RECEIVE_COUNT,
                MessageAttributeValue.builder().dataType("Number").stringValue(Integer.toString(receiveCount)).build());
        if (origin != null && !origin.isEmpty()) {
            ferry.put(DEAD_LETTER_ORIGIN, string(origin));
        }
        var rest = expand(originals); // unfolded first: Ferry's names folded in by a sender go too
        rest.keySet().removeIf(name -> name.startsWith(DeadLetterAttributes.PREFIX));
        return fit(ferry, largeBinariesFirst(rest), Map.of());
    }

    /**
     * {@code attributes}, the Binary ones first, largest first, then the rest by name: those that stay attributes of
     * their own. Folded, a Binary value is written in Base64, a third larger: a message of six attributes, one of them
     * 900 KB of bytes, fit SQS as sent, and its dead-letter copy (Ferry's attributes first, the rest folded) did not.
     */
    private static Map<String, MessageAttributeValue> largeBinariesFirst(Map<String, MessageAttributeValue> attributes) {
        var ordered = new LinkedHashMap<String, MessageAttributeValue>();
        attributes.entrySet().stream().filter(e -> e.getValue().binaryValue() != null && e.getValue().stringValue() == null)
                .sorted((a, b) -> Integer.compare(b.getValue().binaryValue().asByteArrayUnsafe().length,
                        a.getValue().binaryValue().asByteArrayUnsafe().length))
                .forEach(e -> ordered.put(e.getKey(), e.getValue()));
        attributes.forEach(ordered::putIfAbsent);
        return ordered;
    }

    /** A sink's attributes from an event's: valid names as attributes of their own, the rest folded. */
    static Map<String, MessageAttributeValue> fromEvent(Map<String, String> attributes) {
        return fromEvent(attributes, Map.of());
    }

    /**
     * A sink's attributes: {@code propagated} first and whole (a trace context folded into the
     * overflow attribute would be lost on every consumer), replacing event attributes of the same
     * name; then the event's, valid names as attributes of their own (String, or {@link AttributeText} bytes for text
     * SQS refuses as a String), the rest folded. Every name and value must be {@link AttributeText#utf8}.
     */
    static Map<String, MessageAttributeValue> fromEvent(Map<String, String> attributes, Map<String, String> propagated) {
        var first = new LinkedHashMap<String, MessageAttributeValue>();
        propagated.forEach((name, value) -> {
            if (validName(name) && !value.isEmpty() && first.size() < MAX - 1) {
                first.put(name, string(value));
            }
        });
        var valid = new TreeMap<String, MessageAttributeValue>();
        var invalid = new TreeMap<String, MessageAttributeValue>();
        boolean freshTrace = first.containsKey("traceparent");
        for (var e : attributes.entrySet()) {
            if (first.containsKey(e.getKey()) || freshTrace && STALE_TRACE.contains(e.getKey())) {
                continue; // the context the message arrived with is replaced whole, never half
            }
            if (notSentOn(e.getKey())) {
                continue; // trusted only in the queue a message was, or is to be, moved back to: not where it goes next
            }
            (validName(e.getKey()) && !e.getValue().isEmpty() ? valid : invalid).put(e.getKey(), AttributeText.value(e.getValue()));
        }
        // a fold is unfolded at the far end, its attributes as if sent by their own names: the same ones stay behind
        Map<String, MessageAttributeValue> rest = valid.containsKey(OVERFLOW) ? expand(valid) : valid;
        rest.keySet().removeIf(MessageAttributes::notSentOn);
        return fit(first, rest, invalid);
    }

    /**
     * What a sink does not send on: the marks of a message moved back, and the identity a dead letter names (trusted in
     * the queue it was dead-lettered from: sent there, the events a message becomes would be one).
     */
    private static boolean notSentOn(String name) {
        return MOVED_BACK_MARKS.contains(name) || name.equals(DEAD_LETTER_ORIGIN);
    }

    /** The attributes a redriven message goes back with: Ferry's dead-letter ones removed, overflow unfolded. */
    static Map<String, MessageAttributeValue> withoutDeadLetter(Map<String, MessageAttributeValue> attributes) {
        var out = expand(attributes);
        out.keySet().removeIf(name -> name.startsWith(DeadLetterAttributes.PREFIX));
        return out.size() > MAX || !allSendable(out) ? fit(new LinkedHashMap<>(), out, Map.of()) : out;
    }

    /** {@link #withoutDeadLetter}, with {@code name} set to {@code value} first (never folded away). */
    static Map<String, MessageAttributeValue> withoutDeadLetter(Map<String, MessageAttributeValue> attributes, String name,
                                                              String value) {
        return withoutDeadLetter(attributes, Map.of(name, value));
    }

    /** {@link #withoutDeadLetter}, with each of {@code marks} set first (never folded away). */
    static Map<String, MessageAttributeValue> withoutDeadLetter(Map<String, MessageAttributeValue> attributes,
                                                              Map<String, String> marks) {
        return withoutDeadLetter(attributes, marks, java.util.Set.of());
    }

    /** {@link #withoutDeadLetter(Map, Map)}, without the attributes named in {@code dropped} either. */
    static Map<String, MessageAttributeValue> withoutDeadLetter(Map<String, MessageAttributeValue> attributes,
                                                              Map<String, String> marks, java.util.Set<String> dropped) {
        var out = expand(attributes);
        out.keySet().removeIf(n -> n.startsWith(DeadLetterAttributes.PREFIX) || marks.containsKey(n) || dropped.contains(n));
        var first = new LinkedHashMap<String, MessageAttributeValue>();
        marks.forEach((name, value) -> first.put(name, string(value)));
        if (out.size() + first.size() <= MAX && allSendable(out)) {
            first.putAll(out);
            return first;
        }
        return fit(first, out, Map.of());
    }

    /**
     * On a copy a redrive moved back: the identity of the message it was before its dead-lettering (its
     * producer's deduplication id, else its SQS message id), so a format that keys events by them keys
     * the copy as the same event. Trusted only beside the redrive's own mark.
     */
    static final String ORIGIN = "ferry.origin";
    /** The marks of a message moved back from a dead-letter queue: a sink does not send them on. */
    static final java.util.Set<String> MOVED_BACK_MARKS = java.util.Set.of("ferry.origin",
            DeadLetterAttributes.REDRIVE, dev.ferry.domain.parking.GroupParker.RELEASE_ATTRIBUTE);

    /** On a dead letter Ferry wrote: the identity ({@link #ORIGIN}) of the message it copies. */
    static final String DEAD_LETTER_ORIGIN = DeadLetterAttributes.PREFIX + "origin";

    /**
     * An {@link #ORIGIN} value: the identity, bound to the queue the copy goes to by its ARN (a queue of the
     * same name in another account or region, where a relay may carry the copy, is another queue).
     */
    static String origin(String queueArn, String identity) {
        return queueArn + "|" + identity;
    }

    /** The identity an {@link #ORIGIN} value names when it is bound to {@code queueArn}; null otherwise. */
    static String originIn(String origin, String queueArn) {
        if (queueArn == null || queueArn.isEmpty()) {
            return null; // a server that does not say its queues' ARNs: no origin is bound to anything
        }
        String prefix = queueArn + "|";
        return origin.startsWith(prefix) && origin.length() > prefix.length() ? origin.substring(prefix.length()) : null;
    }

    /**
     * Whether SQS takes an attribute as it is: a valid name, a type it knows, a value that is not
     * empty (a Number one that is a number). What an overflow attribute unfolds into may be none of
     * these — the sink folded it for that reason, or a sender wrote the fold — and one such attribute
     * gets the whole message refused: a dead-letter copy, a redrive, a release, for ever.
     */
    static boolean sendable(String name, MessageAttributeValue value) {
        if (!validName(name) || value == null || value.dataType() == null) {
            return false;
        }
        var type = value.dataType();
        if (type.equals("Binary") || type.startsWith("Binary.")) {
            return value.binaryValue() != null && value.binaryValue().asByteArrayUnsafe().length > 0;
        }
        var text = value.stringValue();
        if (text == null || text.isEmpty() || type.length() > 256 || !AttributeText.sqsText(text)) {
            return false;
        }
        if (type.equals("Number") || type.startsWith("Number.")) {
            return number(text);
        }
        return type.equals("String") || type.startsWith("String.");
    }

    /** A decimal number's shape (its digits and range are checked apart). */
    private static final java.util.regex.Pattern NUMBER = java.util.regex.Pattern.compile("[-+]?\\d{1,80}(\\.\\d{1,80})?([eE][-+]?\\d{1,4})?");

    /** What SQS takes as a Number: up to 38 significant digits, zero or a magnitude from 10^-128 to 10^126. */
    static boolean number(String text) {
        if (!NUMBER.matcher(text).matches()) {
            return false;
        }
        var value = new java.math.BigDecimal(text).stripTrailingZeros();
        if (value.signum() == 0) {
            return true;
        }
        var size = value.abs();
        return value.precision() <= 38 && size.compareTo(SMALLEST) >= 0 && size.compareTo(LARGEST) <= 0;
    }

    private static final java.math.BigDecimal SMALLEST = java.math.BigDecimal.ONE.scaleByPowerOfTen(-128);
    private static final java.math.BigDecimal LARGEST = java.math.BigDecimal.ONE.scaleByPowerOfTen(126);

    private static boolean allSendable(Map<String, MessageAttributeValue> attributes) {
        for (var e : attributes.entrySet()) {
            if (!sendable(e.getKey(), e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /**
     * All attributes, the folded ones unfolded: more than SQS takes in one message, possibly. A fold
     * inside a fold (a sender's, or a message relayed several times) is unfolded too, a few levels
     * deep; a name already there is never replaced by a folded one of the same spelling. At most
     * {@value #MAX_UNFOLDED} attributes in all are unfolded: a fold holding more is kept whole, as one
     * that is not a fold is (a hand-made fold of tiny entries unfolded ~80,000 per MiB, kept in memory
     * with each delivery, before any screening).
     */
    static Map<String, MessageAttributeValue> expand(Map<String, MessageAttributeValue> attributes) {
        var out = new TreeMap<>(attributes);
        int unfolded = 0;
        for (int level = 0; level < MAX_FOLD_LEVELS; level++) {
            var overflow = out.get(OVERFLOW);
            String text = overflow == null ? null : AttributeText.text(overflow); // a fold SQS refused as a String: bytes
            if (text == null) {
                break;
            }
            var inner = unfold(text, MAX_UNFOLDED - unfolded);
            var same = inner == null ? null : inner.get(OVERFLOW);
            if (inner == null || (inner.size() == 1 && same != null && text.equals(AttributeText.text(same)))) {
                break; // too many, or not a fold: kept as it is
            }
            unfolded += inner.size();
            out.remove(OVERFLOW);
            inner.forEach(out::putIfAbsent);
        }
        return out;
    }

    /** How many folds inside folds are unfolded. */
    private static final int MAX_FOLD_LEVELS = 8;
    /** How many attributes {@link #expand} unfolds in all, across levels: far more than a Ferry sink ever folds. */
    static final int MAX_UNFOLDED = 1_000;

    /** What a message arrived with that a fresh trace context replaces. */
    private static final java.util.Set<String> STALE_TRACE = java.util.Set.of("traceparent", "tracestate", "AWSTraceHeader");

    static boolean validName(String name) {
        var lower = name.toLowerCase(Locale.ROOT);
        return name.length() <= 256 && VALID_NAME.matcher(name).matches()
                && !lower.startsWith("aws.") && !lower.startsWith("amazon.");
    }

    /** {@code first} whole, then as many of {@code rest} as fit; the others and {@code unfit} folded into one. */
    private static Map<String, MessageAttributeValue> fit(LinkedHashMap<String, MessageAttributeValue> first,
                                                          Map<String, MessageAttributeValue> rest,
                                                          Map<String, MessageAttributeValue> unfit) {
        if (rest.containsKey(OVERFLOW)) {
            rest = expand(rest); // folded before (a dead letter's original, a relayed event): folded again, not replaced
        }
        var out = new LinkedHashMap<>(first);
        boolean overflows = !unfit.isEmpty() || first.size() + rest.size() > MAX;
        int room = MAX - first.size() - (overflows ? 1 : 0);
        var folded = new LinkedHashMap<String, MessageAttributeValue>();
        for (var e : rest.entrySet()) {
            if (first.containsKey(e.getKey())) {
                continue; // what goes first is never replaced by a name of the same spelling (unfolded, say)
            }
            // an overflow kept whole (too many to unfold) goes into the new one when there is one: never replaced by it
            boolean stays = out.size() - first.size() < room && sendable(e.getKey(), e.getValue())
                    && !(overflows && e.getKey().equals(OVERFLOW));
            (stays ? out : folded).put(e.getKey(), e.getValue());
        }
        folded.putAll(unfit);
        if (!folded.isEmpty()) {
            var keptWhole = first.containsKey(OVERFLOW) ? null : out.remove(OVERFLOW);
            if (keptWhole != null) {
                folded.put(OVERFLOW, keptWhole); // a fold too big to unfold, kept: inside the new one, not replaced by it
            }
            // a name SQS refuses, folded as it is, may hold a character no String attribute takes: then the fold goes as bytes
            out.put(OVERFLOW, AttributeText.value(fold(folded)));
        }
        return out;
    }

    static String fold(Map<String, MessageAttributeValue> attributes) {
        var sb = new StringBuilder();
        for (var e : attributes.entrySet()) {
            var v = e.getValue();
            String value = v.stringValue() != null ? v.stringValue()
                    : Base64.getEncoder().encodeToString(v.binaryValue().asByteArray());
            for (String part : new String[] {e.getKey(), v.dataType(), value}) {
                sb.append(part.length()).append(':').append(part);
            }
        }
        return sb.toString();
    }

    static Map<String, MessageAttributeValue> unfold(String folded) {
        return unfold(folded, Integer.MAX_VALUE);
    }

    /** {@link #unfold(String)}, or null when {@code folded} holds more than {@code limit} attributes (not read past them). */
    private static Map<String, MessageAttributeValue> unfold(String folded, int limit) {
        var out = new HashMap<String, MessageAttributeValue>();
        int[] at = {0};
        try {
            while (at[0] < folded.length()) {
                if (out.size() >= limit) {
                    return null;
                }
                String name = next(folded, at);
                String type = next(folded, at);
                String value = next(folded, at);
                out.put(name, type.startsWith("Binary")
                        ? MessageAttributeValue.builder().dataType(type)
                                .binaryValue(SdkBytes.fromByteArray(Base64.getDecoder().decode(value))).build()
                        : MessageAttributeValue.builder().dataType(type).stringValue(value).build());
            }
        } catch (RuntimeException e) {
            // not ours after all: keep it as it is rather than lose it
            return Map.of(OVERFLOW, string(folded));
        }
        return out;
    }

    private static String next(String s, int[] at) {
        int colon = s.indexOf(':', at[0]);
        int length = Integer.parseInt(s.substring(at[0], colon));
        at[0] = colon + 1 + length;
        return s.substring(colon + 1, at[0]);
    }
}
