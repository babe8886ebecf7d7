package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shared frame of Ferry's JSON decoders: limits, UTF-8 and BOM checks, Jackson parsers sharing
 * a bounded number of field names ({@link NameSharing}), and the translation of every parse problem into {@link Decoded.Malformed}
 * with a reason naming the field path or the byte offset. Nothing escapes {@link #decode}.
 */
abstract class JsonSupport implements Decoder {

    /** A problem found while reading: its message is the Malformed reason. No stack trace (it is a value). */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    protected final JsonLimits limits;
    protected final NameSharing parsers;
    protected final Scan scan;
    private boolean fastPath = true;

    protected JsonSupport(JsonLimits limits) {
        this(limits, false);
    }

    /**
     * @param strictDuplicates let Jackson refuse any duplicate field (one hash set per object); decoders
     *                         with fixed fields check the fields they read themselves, at no cost
     */
    protected JsonSupport(JsonLimits limits, boolean strictDuplicates) {
        this.limits = limits;
        this.parsers = new NameSharing(() -> builder(limits, strictDuplicates));
        this.scan = new Scan(limits);
    }

    static JsonFactoryBuilder builder(JsonLimits limits) {
        return builder(limits, false);
    }

    static JsonFactoryBuilder builder(JsonLimits limits, boolean strictDuplicates) {
        return new JsonFactoryBuilder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxDepth())
                        .maxStringLength(limits.maxStringLength())
                        .maxNumberLength(limits.maxNumberLength())
                        .maxDocumentLength(limits.maxBodyBytes())
                        .build())
                .configure(StreamReadFeature.STRICT_DUPLICATE_DETECTION, strictDuplicates)
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION);
    }

    /** Reads the document; called with a parser positioned before the first token. */
    protected abstract Decoded read(JsonParser p, Delivery delivery) throws IOException, Failure;

    /**
     * The fast path: the events of a body that passed {@link #precheck}, read with {@link Scan};
     * null for anything it is not sure of (then the Jackson path decides and words the reason). It
     * must never return events the Jackson path would not return alike. None by default.
     */
    protected Decoded fast(byte[] body, Delivery delivery) {
        return null;
    }

    /**
     * The attribute a Kafka source gives a record without a value: a tombstone, a delete in a compacted topic. Its
     * value is an instance of the source's own, which a Kafka sink writes as a tombstone again.
     */
    static final String KAFKA_TOMBSTONE = "kafka.tombstone";

    /** The type of a tombstone's event: what the raw decoder of a named format gives. */
    protected String tombstoneType() {
        return "raw";
    }

    @Override
    public final Decoded decode(Delivery delivery) {
        var body = delivery.body();
        if (body.length == 0 && "true".equals(delivery.attributes().get(KAFKA_TOMBSTONE))) {
            // a delete has no document: refused as an empty body, it was dead-lettered (its key parked) and a compacted
            // topic's delete never reached the sink. One event as the raw decoder makes it, the attributes (the mark) kept
            return Decoded.of(List.of(RawDecoder.event(delivery, tombstoneType())));
        }
        var problem = precheck(body, limits);
        if (problem != null) {
            return Decoded.malformed(problem);
        }
        Decoded quick = null;
        if (fastPath && scan.maxDepth >= Scan.LEAST_DEPTH) {
            try {
                quick = fast(body, delivery);
            } catch (InnerThrew e) {
                throw e.thrown();
            } catch (RuntimeException | StackOverflowError e) {
                quick = null; // the Jackson path reads it and words what is wrong
            }
        }
        return quick != null ? quick : decodeWithJackson(delivery);
    }

    /**
     * What a decoder called on a part of the body (an SNS envelope's Message) threw: not the body's fault,
     * so not a malformed body, and not a reason to read it again on the other path. It is thrown on as it
     * was: a decoder's exception is a failure that may pass (the delivery is tried again).
     */
    static final class InnerThrew extends RuntimeException {
        InnerThrew(Throwable thrown) {
            super(dev.ferry.domain.model.Thrown.describe(thrown), thrown, false, false); // its text may throw
        }

        /**
         * Throws what the inner decoder threw, as it was; a checked exception (thrown from Kotlin or Scala, or
         * sneaked out of Java) wrapped, its cause kept: cast, it was a ClassCastException that hid it.
         */
        RuntimeException thrown() {
            if (getCause() instanceof Error e) {
                throw e;
            }
            return getCause() instanceof RuntimeException e ? e
                    : new java.lang.reflect.UndeclaredThrowableException(getCause(), getMessage());
        }
    }

    /** For tests, before the decoder is shared: switches the fast path off, so the result is Jackson's alone. */
    JsonSupport jacksonOnly() {
        fastPath = false;
        return this;
    }

    /** The Jackson path alone (prechecked again): what {@link #decode} answers when the fast path declines. */
    final Decoded decodeWithJackson(Delivery delivery) {
        var body = delivery.body();
        var problem = precheck(body, limits);
        if (problem != null) {
            return Decoded.malformed(problem);
        }
        try (JsonParser p = parsers.parser(body)) {
            return read(p, delivery);
        } catch (InnerThrew e) {
            throw e.thrown();
        } catch (Failure f) {
            return Decoded.malformed(f.getMessage());
        } catch (StreamConstraintsException e) {
            return Decoded.malformed("limit exceeded: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            var at = e.getLocation();
            return Decoded.malformed("invalid JSON" + (at == null ? "" : " at offset " + at.getByteOffset())
                    + ": " + firstLine(e.getOriginalMessage()));
        } catch (IOException | RuntimeException e) {
            return Decoded.malformed("could not read the body: " + e);
        } catch (StackOverflowError e) {
            return Decoded.malformed("could not read the body: nested too deeply");
        }
    }

    /** Checks done before parsing: empty, too large, BOM, invalid UTF-8. Null when fine. */
    static String precheck(byte[] body, JsonLimits limits) {
        if (body.length == 0) {
            return "empty body: expected a JSON object";
        }
        if (body.length > limits.maxBodyBytes()) {
            return "body of " + body.length + " bytes is larger than the limit of " + limits.maxBodyBytes() + " bytes";
        }
        if (body.length >= 3 && (body[0] & 0xFF) == 0xEF && (body[1] & 0xFF) == 0xBB && (body[2] & 0xFF) == 0xBF) {
            return "body starts with a UTF-8 byte order mark at offset 0: JSON sent over a network must not have one";
        }
        for (int i = 0; i < Math.min(4, body.length); i++) {
            // A NUL among the first bytes would make the parser guess UTF-16 or UTF-32; Ferry reads UTF-8 only.
            if (body[i] == 0) {
                return "invalid JSON at offset " + i + ": NUL character (is the body UTF-16 or binary?)";
            }
        }
        int bad = Utf8.firstInvalid(body, 0, body.length);
        if (bad >= 0) {
            return "invalid UTF-8 at offset " + bad + " (byte 0x" + Integer.toHexString(body[bad] & 0xFF) + ")";
        }
        return null;
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    // ------------------------------------------------------------ reading helpers

    static void expectRootObject(JsonParser p, String what) throws IOException, Failure {
        var t = p.nextToken();
        if (t != JsonToken.START_OBJECT) {
            throw new Failure("expected " + what + " (a JSON object) at offset 0, found " + describe(t));
        }
    }

    /** After the root object: nothing but whitespace may follow. */
    static void expectEnd(JsonParser p) throws IOException, Failure {
        var t = p.nextToken();
        if (t != null) {
            throw new Failure("trailing content after the JSON document at offset "
                    + p.currentTokenLocation().getByteOffset() + ": " + describe(t));
        }
    }

    /** A field path built only when a message needs it: {@code prefix[index].field}. */
    static String path(String prefix, int index, String field) {
        var sb = new StringBuilder();
        if (prefix != null) {
            sb.append(prefix);
        }
        if (index >= 0) {
            sb.append('[').append(index).append(']');
        }
        if (field != null && !field.isEmpty()) {
            if (!sb.isEmpty()) {
                sb.append('.');
            }
            sb.append(field);
        }
        return sb.toString();
    }

    /** Reads one element object of an array; positioned on its START_OBJECT. */
    @FunctionalInterface
    interface ElementReader<T> {
        T read(JsonParser p, int index) throws IOException, Failure;
    }

    /**
     * Reads a non-empty array of objects (S3 {@code Records}, MTurk {@code Events}), each with
     * {@code reader}; {@code noun} names an element in messages ("record", "event"). Past
     * {@link EntrySlots#MAX_ENTRIES} they are counted, not kept: {@code counted} is told how many there were.
     */
    static <T> List<T> objects(JsonParser p, JsonToken t, String field, String noun, ElementReader<T> reader,
                               java.util.function.IntConsumer counted) throws IOException, Failure {
        expect(t, JsonToken.START_ARRAY, field, -1, null, "an array of " + noun + "s");
        var elements = new ArrayList<T>(4);
        JsonToken next;
        int count = 0;
        while ((next = p.nextToken()) != JsonToken.END_ARRAY) {
            int i = count++;
            expect(next, JsonToken.START_OBJECT, field, i, null, article(noun) + " " + noun + " object");
            if (i < EntrySlots.MAX_ENTRIES) {
                elements.add(reader.read(p, i));
            } else { // past what one message may hold: counted, not kept — a body of millions of small ones held them all
                p.skipChildren();
            }
        }
        if (elements.isEmpty()) {
            throw new Failure(field + ": empty, expected at least one " + noun);
        }
        counted.accept(count);
        return elements;
    }

    private static String article(String noun) {
        return "aeiou".indexOf(noun.charAt(0)) >= 0 ? "an" : "a";
    }

    static String string(JsonParser p, JsonToken t, String prefix, int index, String field) throws IOException, Failure {
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        throw new Failure(path(prefix, index, field) + ": expected a string, found " + describe(t));
    }

    static String requireString(JsonParser p, JsonToken t, String prefix, int index, String field) throws IOException, Failure {
        var s = string(p, t, prefix, index, field);
        if (s == null || s.isEmpty()) {
            throw new Failure(path(prefix, index, field) + ": expected a non-empty string, found " + (s == null ? "null" : "\"\""));
        }
        return s;
    }

    static long nonNegativeLong(JsonParser p, JsonToken t, String prefix, int index, String field) throws IOException, Failure {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw new Failure(path(prefix, index, field) + ": expected a whole number, found " + describe(t));
        }
        if (p.getNumberType() != JsonParser.NumberType.INT && p.getNumberType() != JsonParser.NumberType.LONG) {
            throw new Failure(path(prefix, index, field) + ": number " + p.getText() + " is out of range (at most " + Long.MAX_VALUE + ")");
        }
        long v = p.getLongValue();
        if (v < 0) {
            throw new Failure(path(prefix, index, field) + ": expected a number >= 0, found " + v);
        }
        return v;
    }

    static void expect(JsonToken actual, JsonToken expected, String prefix, int index, String field, String what) throws Failure {
        if (actual != expected) {
            throw new Failure(path(prefix, index, field) + ": expected " + what + ", found " + describe(actual));
        }
    }

    static Instant instant(String text, String prefix, int index, String field) throws Failure {
        if (text == null) {
            return null;
        }
        var fast = Timestamps.parseUtc(text);
        if (fast != null) {
            return fast;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new Failure(path(prefix, index, field) + ": expected an ISO-8601 UTC time like 2005-01-31T23:59:59Z, found \"" + clip(text) + "\"");
        }
    }

    static String string(JsonParser p, JsonToken t, String path) throws IOException, Failure {
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        throw new Failure(path + ": expected a string, found " + describe(t));
    }

    static String requireString(JsonParser p, JsonToken t, String path) throws IOException, Failure {
        var s = string(p, t, path);
        if (s == null || s.isEmpty()) {
            throw new Failure(path + ": expected a non-empty string, found " + (s == null ? "null" : "\"\""));
        }
        return s;
    }

    static long nonNegativeLong(JsonParser p, JsonToken t, String path) throws IOException, Failure {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw new Failure(path + ": expected a whole number, found " + describe(t));
        }
        if (p.getNumberType() != JsonParser.NumberType.INT && p.getNumberType() != JsonParser.NumberType.LONG) {
            throw new Failure(path + ": number " + p.getText() + " is out of range (at most " + Long.MAX_VALUE + ")");
        }
        long v = p.getLongValue();
        if (v < 0) {
            throw new Failure(path + ": expected a number >= 0, found " + v);
        }
        return v;
    }

    static Instant instant(String text, String path) throws Failure {
        return instant(text, null, -1, path);
    }

    static void expect(JsonToken actual, JsonToken expected, String path, String what) throws Failure {
        if (actual != expected) {
            throw new Failure(path + ": expected " + what + ", found " + describe(actual));
        }
    }

    static String describe(JsonToken t) {
        if (t == null) {
            return "the end of the body";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.name();
        };
    }

    static String clip(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }

    /** The bytes of one element, or the whole body when it is the only one (no copy). */
    static byte[] slice(byte[] body, long start, long end, boolean whole) {
        if (whole || start < 0 || end > body.length || start >= end) {
            return body;
        }
        return Arrays.copyOfRange(body, (int) start, (int) end);
    }
}
