package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import java.io.IOException;
import java.util.function.Supplier;

/**
 * Jackson parsers of one decoder, sharing the field names they met — a name seen before is found, not made again —
 * but at most about {@link #MAX_NAMES} of them. Jackson's factory keeps every name its parsers met (up to 6,000):
 * a sender's bodies of distinct 49,000-character names left 2 MB each behind, hundreds of MB in all, and every later
 * parse copied the store once per new name, until the heap ran out on whichever message was decoding then. Past the
 * bound the names are forgotten: the next parser comes from a new factory. (Jackson's own way to keep no names,
 * turning canonicalizing off, parses UTF-8 as characters: byte offsets lost, and twice the allocation.)
 *
 * <p>Both of the factory's name stores are counted. A body whose first bytes hold a NUL is read by Jackson as UTF-16
 * or UTF-32, and its names go to the store of characters (kept up to 12,000 names), not the one of UTF-8 bytes: the
 * sniffer of {@code auto} parses a body before any UTF-8 check, so Kafka's bytes, or an SNS Message of escaped NULs,
 * left about 590 MB of names behind, uncounted, and the factory was never replaced.
 */
final class NameSharing {

    /** Names shared at most: many more than a stream of documents of a few shapes uses. */
    static final int MAX_NAMES = 128;

    private final Supplier<JsonFactoryBuilder> builder;
    private volatile Factory current;

    NameSharing(Supplier<JsonFactoryBuilder> builder) {
        this.builder = builder;
        this.current = new Factory(builder.get());
    }

    /** A parser of {@code body}, from a new factory if the last one keeps more than {@link #MAX_NAMES} names. */
    JsonParser parser(byte[] body) throws IOException {
        var factory = current;
        if (factory.namesKept() > MAX_NAMES) {
            factory = new Factory(builder.get()); // two threads may both make one: the loser's names are forgotten too
            current = factory;
        }
        return factory.createParser(body);
    }

    /** A factory that says how many names its parsers left it. */
    private static final class Factory extends JsonFactory {
        private static final long serialVersionUID = 1L;

        Factory(JsonFactoryBuilder builder) {
            super(builder);
        }

        /** The names of UTF-8 bodies and of UTF-16/32 ones: counting the first alone left the second unbounded. */
        int namesKept() {
            return _byteSymbolCanonicalizer.size() + _rootCharSymbols.size();
        }
    }
}
