package dev.ferry.adapters.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a request body into events: a JSON object is one, a JSON array of objects is one per
 * element (each element's exact bytes, so the decoder sees what the client sent). Anything else
 * — JSON in another encoding than UTF-8 too — is refused with a reason naming the offset.
 */
final class JsonItems {

    /**
     * Names shared between requests' parsers at most: Jackson's factory keeps every name its parsers met (up to
     * 6,000), and a client's distinct 49,000-character names left 2 MB a request behind, each later request copying
     * the store once per new name. Past it the next request's parser comes from a new factory.
     */
    static final int MAX_NAMES = 128;
    private static volatile Factory factory = new Factory();

    /** A factory that says how many names its parsers left it. */
    private static final class Factory extends JsonFactory {
        private static final long serialVersionUID = 1L;

        Factory() {
            super(new com.fasterxml.jackson.core.JsonFactoryBuilder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build()));
        }

        int namesKept() {
            return _byteSymbolCanonicalizer.size();
        }
    }

    private static JsonParser parser(byte[] body) throws java.io.IOException {
        var current = factory;
        if (current.namesKept() > MAX_NAMES) {
            current = new Factory();
            factory = current;
        }
        return current.createParser(body);
    }

    /** The items, or a reason why the body is not one event or an array of them. */
    sealed interface Split {
        record Items(List<byte[]> items, boolean batch) implements Split {
        }

        record Invalid(String reason) implements Split {
        }
    }

    private JsonItems() {
    }

    static Split split(byte[] body, int maxItems) {
        try (JsonParser p = parser(body)) {
            var first = p.nextToken();
            if (first == null) {
                return new Split.Invalid("empty body: expected a JSON object or an array of objects");
            }
            if (p.currentTokenLocation().getByteOffset() < 0) {
                // the parser found UTF-16 or UTF-32 and reads characters: no byte offsets to cut the events out by
                return new Split.Invalid("not UTF-8: a request's JSON must be encoded in UTF-8 (RFC 8259)");
            }
            if (first == JsonToken.START_OBJECT) {
                p.skipChildren();
                if (p.nextToken() != null) {
                    return new Split.Invalid("trailing content after the JSON object at offset " + offset(p));
                }
                return new Split.Items(List.of(body), false);
            }
            if (first != JsonToken.START_ARRAY) {
                return new Split.Invalid("expected a JSON object or an array of objects, found " + first.asString()
                        + " at offset 0");
            }
            var items = new ArrayList<byte[]>();
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t != JsonToken.START_OBJECT) {
                    return new Split.Invalid("element " + items.size() + " at offset " + offset(p)
                            + " is " + (t == null ? "missing (truncated array)" : t.asString()) + ", expected an object");
                }
                if (items.size() == maxItems) {
                    return new Split.Invalid("more than " + maxItems + " events in one request");
                }
                long start = p.currentTokenLocation().getByteOffset();
                p.skipChildren();
                long end = p.currentLocation().getByteOffset();
                items.add(Arrays.copyOfRange(body, (int) start, (int) end));
            }
            if (p.nextToken() != null) {
                return new Split.Invalid("trailing content after the JSON array at offset " + offset(p));
            }
            if (items.isEmpty()) {
                return new Split.Invalid("empty array: no events");
            }
            return new Split.Items(items, true);
        } catch (JsonProcessingException e) {
            return new Split.Invalid("malformed JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " at offset " + e.getLocation().getByteOffset() : ""));
        } catch (IOException e) {
            return new Split.Invalid("unreadable body: " + e.getMessage());
        }
    }

    private static long offset(JsonParser p) {
        return p.currentTokenLocation().getByteOffset();
    }
}
