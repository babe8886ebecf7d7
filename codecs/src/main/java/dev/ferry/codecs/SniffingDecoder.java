package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import java.io.IOException;

/**
 * Chooses a decoder by looking at the body's top-level field names: {@code Records} or
 * {@code Service}/{@code Event} → S3; {@code EventDocId}/{@code Events}/{@code EventDocVersion} →
 * MTurk; {@code TopicArn} or {@code Type} → SNS (whose inner message is sniffed again). Anything
 * else goes to the fallback decoder, and so does a body the chosen decoder refuses that is not that
 * format at all (see {@link #orFallback}).
 */
final class SniffingDecoder implements Decoder {

    enum Kind { S3, MTURK, SNS, OTHER }

    private final NameSharing parsers;
    private final JsonLimits limits;
    private final Decoder s3;
    private final Decoder mturk;
    private final Decoder sns;
    private final Decoder fallback;

    private final Scan scan;

    /** Whether this is the outer sniffer ({@code auto}'s own), not the one reading an SNS message's inside. */
    private final boolean outer;

    SniffingDecoder(JsonLimits limits, Decoder fallback) {
        this(limits, fallback, true, true);
    }

    /**
     * @param fastPaths false (tests only) for decoders that read with Jackson alone
     * @param snsInside whether an SNS envelope is recognised; the decoder for an SNS message's
     *                  inside has it off (an envelope in an envelope goes to the fallback), so
     *                  an envelope-like body never sends the chain round in circles
     */
    SniffingDecoder(JsonLimits limits, Decoder fallback, boolean fastPaths, boolean snsInside) {
        this.limits = limits;
        this.parsers = new NameSharing(() -> JsonSupport.builder(limits));
        this.scan = new Scan(limits);
        var s3 = new S3Decoder(limits);
        var mturk = new MturkDecoder(limits);
        this.s3 = fastPaths ? s3 : s3.jacksonOnly();
        this.mturk = fastPaths ? mturk : mturk.jacksonOnly();
        if (snsInside) {
            var sns = new SnsDecoder(limits, new SniffingDecoder(limits, fallback, fastPaths, false));
            this.sns = fastPaths ? sns : sns.jacksonOnly();
        } else {
            this.sns = fallback;
        }
        this.fallback = fallback;
        this.outer = snsInside;
    }

    @Override
    public Decoded decode(Delivery delivery) {
        return switch (sniff(delivery.body())) {
            case S3 -> orFallback(s3.decode(delivery), delivery, Kind.S3);
            case MTURK -> orFallback(mturk.decode(delivery), delivery, Kind.MTURK);
            case SNS -> outer ? orFallback(sns.decode(delivery), delivery, Kind.SNS) : sns.decode(delivery);
            case OTHER -> fallback.decode(delivery);
        };
    }

    /**
     * A body a format's decoder refused that is not that format at all — ordinary JSON with a field
     * named {@code Event}, {@code Service}, {@code Records} or {@code Events} (an application's own
     * event, a DynamoDB stream's records), or {@code Type} or {@code TopicArn} first (a producer's
     * {@code {"Type": "reading", "value": NaN}}) — goes to the fallback, as a body of other field names
     * does; one that is the format, damaged, stays malformed. Looked at only on that path.
     */
    private Decoded orFallback(Decoded decoded, Delivery delivery, Kind kind) {
        if (decoded instanceof Decoded.Malformed && !shaped(delivery.body(), kind)) {
            return fallback.decode(delivery);
        }
        return decoded;
    }

    /**
     * Whether the body has the format's own structure: for S3 a {@code Records} array empty or with a
     * record holding an {@code s3} object, {@code "Service": "Amazon S3"} or an {@code Event} of
     * {@code s3:...}; for MTurk an {@code EventDocId}, or an {@code Events} entry with an {@code EventType};
     * for SNS both a {@code Type} and a {@code TopicArn} member, whatever their values (what the SNS
     * decoder takes for an envelope). It answers as soon as it has seen that structure.
     */
    boolean shaped(byte[] body, Kind kind) {
        try (JsonParser p = parsers.parser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            boolean type = false;
            boolean topicArn = false;
            String name;
            while ((name = p.nextFieldName()) != null) {
                var value = p.nextToken();
                if (kind == Kind.S3 && name.equals("Records") && value == JsonToken.START_ARRAY) {
                    var first = p.nextToken();
                    if (first == JsonToken.END_ARRAY || arrayHasObjectWith(p, first, S3_RECORD)) {
                        return true;
                    }
                } else if (kind == Kind.S3 && (name.equals("Event") || name.equals("Service")) && value == JsonToken.VALUE_STRING) {
                    if (p.getText().startsWith("s3:") || p.getText().equals("Amazon S3")) {
                        return true;
                    }
                } else if (kind == Kind.MTURK && name.equals("EventDocId")) {
                    return true;
                } else if (kind == Kind.MTURK && name.equals("Events") && value == JsonToken.START_ARRAY) {
                    var first = p.nextToken();
                    if (first != JsonToken.END_ARRAY && arrayHasObjectWith(p, first, MTURK_EVENT)) {
                        return true;
                    }
                } else if (kind == Kind.SNS && (name.equals("Type") || name.equals("TopicArn"))) {
                    type |= name.equals("Type");
                    topicArn |= name.equals("TopicArn");
                    if (type && topicArn) {
                        return true;
                    }
                    p.skipChildren();
                } else {
                    p.skipChildren();
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            // Not JSON the parser reads (NaN, nesting, a number or a string past the limits), and it broke before it
            // showed the format's structure. At the top nothing says it is the format: it goes on as the same body
            // with other field names does. Inside an SNS message, whose envelope said what it carries, the format's
            // own refusal says why, as it always has.
            return !outer;
        }
    }

    /** What makes an S3 record (an {@code s3} object, or the event source S3 names) and an MTurk event ("": any value). */
    private static final java.util.Map<String, String> S3_RECORD = java.util.Map.of("s3", "", "eventSource", "aws:s3");
    private static final java.util.Map<String, String> MTURK_EVENT = java.util.Map.of("EventType", "");

    /**
     * Reads an array from its first element's token on; whether one of its objects has one of
     * {@code fields} (with the value given, unless that is empty). True as soon as one has (what follows
     * is not read: it may break the parser); false with the array read.
     */
    private static boolean arrayHasObjectWith(JsonParser p, JsonToken token, java.util.Map<String, String> fields)
            throws IOException {
        for (var t = token; t != JsonToken.END_ARRAY && t != null; t = p.nextToken()) {
            if (t == JsonToken.START_OBJECT) {
                String name;
                while ((name = p.nextFieldName()) != null) {
                    var value = p.nextToken();
                    var wanted = fields.get(name);
                    if (wanted != null && (wanted.isEmpty() || value == JsonToken.VALUE_STRING && wanted.equals(p.getText()))) {
                        return true;
                    }
                    p.skipChildren();
                }
            } else {
                p.skipChildren();
            }
        }
        return false;
    }

    /** The names that tell a format (S3: 0-2, MTurk: 3-5, SNS: 6-7): the first of them in a body decides. */
    private static final Fields KNOWN = Fields.of("Records", "Service", "Event", "EventDocId", "EventDocVersion", "Events",
            "TopicArn", "Type");

    /** Notes the kind the first known name tells, and stops the reading there. */
    private static final Members.Reader<Kind[]> FOUND = (found, b, field, p) -> {
        found[0] = field < 3 ? Kind.S3 : field < 6 ? Kind.MTURK : Kind.SNS;
        return Scan.BAIL;
    };

    Kind sniff(byte[] body) {
        if (body.length > limits.maxBodyBytes()) {
            return Kind.OTHER;
        }
        var quick = quickSniff(body);
        return quick != null ? quick : jacksonSniff(body);
    }

    /** The same look with {@link Scan}: the kind, or null when unsure (then Jackson looks). */
    private Kind quickSniff(byte[] b) {
        var found = new Kind[1];
        int end = Members.object(scan, b, Scan.ws(b, 0), 1, KNOWN, FOUND, found);
        return found[0] != null ? found[0] : end < 0 ? null : Kind.OTHER;
    }

    private Kind jacksonSniff(byte[] body) {
        try (JsonParser p = parsers.parser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return Kind.OTHER;
            }
            String name;
            while ((name = p.nextFieldName()) != null) {
                switch (name) {
                    case "Records", "Service", "Event" -> {
                        return Kind.S3;
                    }
                    case "EventDocId", "EventDocVersion", "Events" -> {
                        return Kind.MTURK;
                    }
                    case "TopicArn", "Type" -> {
                        return Kind.SNS;
                    }
                    default -> {
                        p.nextToken();
                        p.skipChildren();
                    }
                }
            }
            return Kind.OTHER;
        } catch (IOException | RuntimeException e) {
            return Kind.OTHER;
        }
    }
}
