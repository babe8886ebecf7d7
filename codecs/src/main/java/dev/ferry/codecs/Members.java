package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.codecs.JsonSupport.Failure;
import java.io.IOException;

/**
 * The one loop over a JSON object's members, for each path: {@link #object(Scan, byte[], int, int, Fields, Reader, Object)}
 * on the bytes (the fast path) and {@link #object(JsonParser, Fields, JacksonReader, Object)} on
 * Jackson's tokens. Both look each name up in the format's {@link Fields}, skip members the table
 * does not name, refuse a field seen twice in one object, and hand every other member's value to
 * the format's reader with the field's number. What a reader reads into is its state {@code S}
 * (one per document or entry), so readers are constants and no lambda is made per object.
 */
final class Members {

    private Members() {
    }

    /** Reads the value of field {@code field} at {@code p}; the position after it, or {@link Scan#BAIL}. */
    @FunctionalInterface
    interface Reader<S> {
        int read(S state, byte[] b, int field, int p);
    }

    /** Reads the value of the member named by the content {@code [ns, ne)} (no escapes) at {@code p}. */
    @FunctionalInterface
    interface NamedReader<S> {
        int read(S state, byte[] b, int ns, int ne, int p);
    }

    /** Reads the value of field {@code field}, whose first token is {@code t}. */
    @FunctionalInterface
    interface JacksonReader<S> {
        void read(S state, JsonParser p, int field, JsonToken t) throws IOException, Failure;
    }

    /**
     * The object at {@code p} (its '{'), inside containers {@code depth} deep: the position after its
     * '}', or BAIL — for a syntax error, an escaped name, a duplicate field, or a reader's BAIL.
     */
    static <S> int object(Scan scan, byte[] b, int p, int depth, Fields fields, Reader<S> reader, S state) {
        if (p >= b.length || b[p] != '{') {
            return Scan.BAIL;
        }
        int seen = 0;
        p = first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = valueStart(b, ne)) < 0) {
                return Scan.BAIL;
            }
            int field = fields.indexOf(b, ns, ne);
            if (field < 0) {
                p = scan.skipValue(b, p, depth);
            } else if ((seen & 1 << field) != 0) {
                return Scan.BAIL; // which value counts: the Jackson path says it is a duplicate
            } else {
                seen |= 1 << field;
                p = reader.read(state, b, field, p);
            }
            if (p < 0) {
                return Scan.BAIL;
            }
            p = next(b, p, (byte) '}');
        }
        return p == Scan.BAIL ? Scan.BAIL : ~p;
    }

    /**
     * The object at {@code p} used as a map (SNS MessageAttributes): every member, whatever its name,
     * to {@code reader}, which keeps what it needs of duplicates; the position after the '}', or BAIL.
     */
    static <S> int map(Scan scan, byte[] b, int p, NamedReader<S> reader, S state) {
        if (p >= b.length || b[p] != '{') {
            return Scan.BAIL;
        }
        p = first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = valueStart(b, ne)) < 0 || (p = reader.read(state, b, ns, ne, p)) < 0) {
                return Scan.BAIL;
            }
            p = next(b, p, (byte) '}');
        }
        return p == Scan.BAIL ? Scan.BAIL : ~p;
    }

    /**
     * The array at {@code p} (its '['): each element read by {@code reader} with its index as the
     * field; the position after the ']', or BAIL.
     */
    static <S> int array(byte[] b, int p, Reader<S> reader, S state) {
        if (p >= b.length || b[p] != '[') {
            return Scan.BAIL;
        }
        int index = 0;
        p = first(b, p + 1, (byte) ']');
        while (p >= 0) {
            p = reader.read(state, b, index++, p);
            if (p < 0) {
                return Scan.BAIL;
            }
            p = next(b, p, (byte) ']');
        }
        return p == Scan.BAIL ? Scan.BAIL : ~p;
    }

    /** The members of the object whose '{' was the last token read, to its '}'. */
    static <S> void object(JsonParser p, Fields fields, JacksonReader<S> reader, S state) throws IOException, Failure {
        int seen = 0;
        String name;
        while ((name = p.nextFieldName()) != null) {
            var t = p.nextToken();
            int field = fields.indexOf(name);
            if (field < 0) {
                p.skipChildren();
                continue;
            }
            if ((seen & 1 << field) != 0) {
                throw new Failure("Duplicate field '" + name + "' in one object at offset "
                        + p.currentTokenLocation().getByteOffset() + ": which value counts would be a guess");
            }
            seen |= 1 << field;
            reader.read(state, p, field, t);
        }
    }

    // The members' punctuation. A position, BAIL, or ~end: the bitwise complement of the position
    // after the closing bracket (negative, never BAIL), which only the loops above ever see.

    /** After a name's closing quote: the position of its value (past the colon and whitespace), or BAIL. */
    private static int valueStart(byte[] b, int nameEnd) {
        int p = Scan.ws(b, nameEnd + 1);
        if (p >= b.length || b[p] != ':') {
            return Scan.BAIL;
        }
        p = Scan.ws(b, p + 1);
        return p >= b.length ? Scan.BAIL : p;
    }

    /** After a value: the start of the next member or element, ~end after {@code close}, or BAIL. */
    private static int next(byte[] b, int p, byte close) {
        p = Scan.ws(b, p);
        if (p >= b.length) {
            return Scan.BAIL;
        }
        if (b[p] == close) {
            return ~(p + 1);
        }
        if (b[p] != ',') {
            return Scan.BAIL;
        }
        p = Scan.ws(b, p + 1);
        return p >= b.length ? Scan.BAIL : p;
    }

    /** Just inside a container: the start of its first member or element, or ~end when it is empty. */
    private static int first(byte[] b, int p, byte close) {
        p = Scan.ws(b, p);
        if (p >= b.length) {
            return Scan.BAIL;
        }
        return b[p] == close ? ~(p + 1) : p;
    }
}
