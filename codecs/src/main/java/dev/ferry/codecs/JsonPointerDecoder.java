package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Any JSON document: the event's id, type, group key and time are read at configured JSON
 * Pointers (RFC 6901); the whole document is the payload. The id pointer is required and must
 * find a string or a whole number (anything else — a boolean, a fraction, an object — is malformed:
 * as a key, {@code true} would be every such document's); a missing type falls back to the
 * configured default type, a missing group (or no group pointer) to the delivery's own group key.
 */
final class JsonPointerDecoder extends JsonSupport {

    /** Where to find the event's fields. {@code type}, {@code group}, {@code time} may be null. */
    record Pointers(String id, String type, String group, String time, String defaultType) {
        Pointers {
            Objects.requireNonNull(id, "id pointer");
            defaultType = defaultType == null ? "json" : defaultType;
        }
    }

    private final Pointers pointers;
    private final String[][] targets;

    JsonPointerDecoder(JsonLimits limits, Pointers pointers) {
        super(limits, true);
        this.pointers = pointers;
        this.targets = new String[][] {split(pointers.id()), split(pointers.type()), split(pointers.group()),
                split(pointers.time())};
    }

    /** A tombstone's event has no document to read a type from: the default type. */
    @Override
    protected String tombstoneType() {
        return pointers.defaultType();
    }

    /** "/a/b~1c/0" → ["a", "b/c", "0"]; null stays null. */
    static String[] split(String pointer) {
        if (pointer == null) {
            return null;
        }
        if (pointer.isEmpty() || pointer.charAt(0) != '/') {
            throw new IllegalArgumentException("JSON Pointer must start with '/', was '" + pointer + "'");
        }
        var parts = pointer.substring(1).split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            parts[i] = parts[i].replace("~1", "/").replace("~0", "~");
        }
        return parts;
    }

    @Override
    protected Decoded read(JsonParser p, Delivery delivery) throws IOException, Failure {
        expectRootObject(p, "a JSON document");
        var found = new String[targets.length];
        // grown as the document nests (the parser holds it to maxDepth): sized by maxDepth, a limit set high (a million)
        // made each decode allocate megabytes, and one near Integer.MAX_VALUE failed every body
        int size = Math.min(limits.maxDepth(), 32) + 1;
        var path = new String[size];
        var index = new int[size];
        var inArray = new boolean[size];
        int depth = 1;
        JsonToken t;
        while (depth > 0 && (t = p.nextToken()) != null) {
            if (t == JsonToken.FIELD_NAME) {
                path[depth - 1] = p.currentName();
                continue;
            }
            if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                depth--;
                continue;
            }
            if (inArray[depth - 1]) {
                path[depth - 1] = Integer.toString(++index[depth - 1]);
            }
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                if (found[0] == null && matches(targets[0], path, depth)) {
                    throw new Failure(pointers.id() + ": expected a string or a whole number for the event id, found "
                            + (t == JsonToken.START_OBJECT ? "an object" : "an array"));
                }
                if (targets[2] != null && found[2] == null && matches(targets[2], path, depth)) {
                    // skipped, it left the event without a group: run out of order with the rest of its group
                    throw new Failure(pointers.group() + ": expected a string, a number or true/false for the group, found "
                            + (t == JsonToken.START_OBJECT ? "an object" : "an array"));
                }
                if (found[1] == null && matches(targets[1], path, depth)) {
                    // skipped, the event took the default type: routed as another kind, or acked unmatched, unsaid
                    throw new Failure(pointers.type() + ": expected a string for the event type, found "
                            + (t == JsonToken.START_OBJECT ? "an object" : "an array"));
                }
                if (found[3] == null && matches(targets[3], path, depth)) {
                    throw new Failure(pointers.time() + ": expected a timestamp or epoch milliseconds, found "
                            + (t == JsonToken.START_OBJECT ? "an object" : "an array"));
                }
                if (depth == path.length) {
                    int grown = (int) Math.min((long) path.length * 2, (long) limits.maxDepth() + 1);
                    path = java.util.Arrays.copyOf(path, grown);
                    index = java.util.Arrays.copyOf(index, grown);
                    inArray = java.util.Arrays.copyOf(inArray, grown);
                }
                inArray[depth] = t == JsonToken.START_ARRAY;
                index[depth] = -1;
                depth++;
                continue;
            }
            for (int i = 0; i < targets.length; i++) {
                if (found[i] == null && matches(targets[i], path, depth)) {
                    if (i == 0 && t != JsonToken.VALUE_STRING && t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NULL) {
                        // true, false or 1.5 as an id: every such document would share a key (the second one dropped
                        // as a duplicate), and 1.0 and 1e0 would be two keys for one number
                        throw new Failure(pointers.id() + ": expected a string or a whole number for the event id, found "
                                + clip(p.getText()));
                    }
                    // a whole number as written by another writer (-0 for 0) is one key, as 1.0 and 1e0 would not be;
                    // a group's 1, 1.0 and 1e0 were three groups for one account, its events side by side, out of order
                    found[i] = t == JsonToken.VALUE_NULL ? null
                            : t == JsonToken.VALUE_NUMBER_INT ? p.getBigIntegerValue().toString()
                            : i == 2 && t == JsonToken.VALUE_NUMBER_FLOAT ? canonicalGroup(p) : p.getText();
                }
            }
        }
        expectEnd(p);
        if (found[0] == null || found[0].isEmpty()) {
            throw new Failure(pointers.id() + ": missing, the event id is read there");
        }
        var type = found[1] != null ? found[1] : pointers.defaultType();
        // nothing at the group pointer (none set, the field missing or null): the delivery's group, the FIFO group or
        // Kafka key the engine ordered it by, as the raw decoder gives it. Left null, a Kafka sink wrote the event
        // keyless (its group spread over partitions, read out of order) and a FIFO SQS sink refused it
        var group = found[2] != null ? found[2] : delivery.groupKey();
        return Decoded.of(List.of(new Event(found[0], type, time(found[3]), group, delivery.body(), null)));
    }

    /** A number read as a group, written one way for one value: 1.0 and 1e0 as 1, 1.50 and 15e-1 as 1.5. */
    private String canonicalGroup(JsonParser p) throws IOException, Failure {
        var number = p.getDecimalValue().stripTrailingZeros();
        if (number.scale() > 1_000 || number.precision() - number.scale() > 1_000) { // 1e999999999: a billion digits
            throw new Failure(pointers.group() + ": the number " + clip(p.getText()) + " is too large for a group");
        }
        return number.scale() <= 0 ? number.toBigIntegerExact().toString() : number.toPlainString();
    }

    private Instant time(String text) throws Failure {
        if (text == null) {
            return null;
        }
        if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
            try {
                return Instant.ofEpochMilli(Long.parseLong(text));
            } catch (NumberFormatException e) {
                throw new Failure(pointers.time() + ": epoch milliseconds out of range: " + clip(text));
            }
        }
        return instant(text, pointers.time());
    }

    private static boolean matches(String[] target, String[] path, int depth) {
        if (target == null || target.length != depth) {
            return false;
        }
        for (int i = 0; i < depth; i++) {
            if (!target[i].equals(path[i])) {
                return false;
            }
        }
        return true;
    }
}
