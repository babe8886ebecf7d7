package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * Amazon S3 event notifications: one event per {@code Records[]} entry, and the
 * {@code s3:TestEvent} message S3 sends when a notification is configured.
 *
 * <p>Event: type = {@code eventName} (e.g. {@code ObjectCreated:Put}; {@code s3:Object} when the
 * record has none), key = {@code s3:bucket/objectKey#sequencer} (or versionId, or eTag), group key
 * {@code bucket/objectKey} so one object's events keep their order, time = {@code eventTime}.
 * The object key is URL-decoded ({@code +} is a space). Attributes: bucket, objectKey, size, eTag,
 * versionId, sequencer, eventName, eventTime, region.
 */
final class S3Decoder extends JsonSupport {

    static final String TEST_EVENT = "s3:TestEvent";
    static final String UNNAMED = "s3:Object";

    /** Keys are sequencer- or EventDocId-based: the same object event or document is one event on any source. */
    @Override
    public boolean keysUniqueByNature() {
        return true;
    }

    S3Decoder(JsonLimits limits) {
        super(limits);
    }

    private static final class Record {
        String eventName;
        String eventTime;
        String region;
        String bucket;
        String key;
        long size = -1;
        String eTag;
        String versionId;
        String sequencer;
        long start;
        long end;
    }

    @Override
    protected Decoded read(JsonParser p, Delivery delivery) throws IOException, Failure {
        expectRootObject(p, "an S3 event notification");
        List<Record> records = null;
        String service = null;
        String event = null;
        String time = null;
        String bucket = null;
        String requestId = null;
        int seen = 0;
        String name;
        while ((name = p.nextFieldName()) != null) {
            var t = p.nextToken();
            switch (name) {
                case "Records" -> {
                    seen = once(seen, 1, p, name);
                    records = objects(p, t, "Records", "record", this::record);
                }
                case "Service" -> {
                    seen = once(seen, 2, p, name);
                    service = string(p, t, null, -1, name);
                }
                case "Event" -> {
                    seen = once(seen, 4, p, name);
                    event = string(p, t, null, -1, name);
                }
                case "Time" -> {
                    seen = once(seen, 8, p, name);
                    time = string(p, t, null, -1, name);
                }
                case "Bucket" -> {
                    seen = once(seen, 16, p, name);
                    bucket = string(p, t, null, -1, name);
                }
                case "RequestId" -> {
                    seen = once(seen, 32, p, name);
                    requestId = string(p, t, null, -1, name);
                }
                default -> p.skipChildren();
            }
        }
        expectEnd(p);
        var body = delivery.body();
        if (records != null) {
            var events = new Event[records.size()];
            for (int i = 0; i < events.length; i++) {
                events[i] = event(records.get(i), i, body, events.length == 1);
            }
            return Decoded.of(List.of(events));
        }
        if (TEST_EVENT.equals(event)) {
            var attributes = new FlatMap.Builder(3).put("service", service).put("bucket", bucket).put("requestId", requestId).build();
            var key = TEST_EVENT + ":" + (requestId != null ? requestId : delivery.id());
            return Decoded.of(List.of(new Event(key, TEST_EVENT, instant(time, "Time"), null, body, attributes)));
        }
        throw new Failure("not an S3 event notification: expected a 'Records' array or an 's3:TestEvent'"
                + (event != null ? ", found Event \"" + clip(event) + "\"" : ""));
    }

    private Record record(JsonParser p, int i) throws IOException, Failure {
        var r = new Record();
        r.start = p.currentTokenLocation().getByteOffset();
        int seen = 0;
        String name;
        while ((name = p.nextFieldName()) != null) {
            var t = p.nextToken();
            switch (name) {
                case "eventName" -> {
                    seen = once(seen, 1, p, name);
                    r.eventName = string(p, t, "Records", i, name);
                }
                case "eventTime" -> {
                    seen = once(seen, 2, p, name);
                    r.eventTime = string(p, t, "Records", i, name);
                }
                case "awsRegion" -> {
                    seen = once(seen, 4, p, name);
                    r.region = string(p, t, "Records", i, name);
                }
                case "s3" -> {
                    seen = once(seen, 8, p, name);
                    s3(p, t, r, i);
                }
                default -> p.skipChildren();
            }
        }
        r.end = p.currentLocation().getByteOffset();
        if (r.key == null) {
            throw new Failure(path("Records", i, "s3.object.key") + ": missing, every record names its object");
        }
        return r;
    }

    private void s3(JsonParser p, JsonToken t, Record r, int i) throws IOException, Failure {
        expect(t, JsonToken.START_OBJECT, "Records", i, "s3", "an object");
        int seen = 0;
        String name;
        while ((name = p.nextFieldName()) != null) {
            var v = p.nextToken();
            switch (name) {
                case "bucket" -> {
                    seen = once(seen, 1, p, name);
                    expect(v, JsonToken.START_OBJECT, "Records", i, "s3.bucket", "an object");
                    int seenInBucket = 0;
                    String field;
                    while ((field = p.nextFieldName()) != null) {
                        var fv = p.nextToken();
                        if (field.equals("name")) {
                            seenInBucket = once(seenInBucket, 1, p, field);
                            r.bucket = requireString(p, fv, "Records", i, "s3.bucket.name");
                        } else {
                            p.skipChildren();
                        }
                    }
                }
                case "object" -> {
                    seen = once(seen, 2, p, name);
                    object(p, v, r, i);
                }
                default -> p.skipChildren();
            }
        }
    }

    private void object(JsonParser p, JsonToken t, Record r, int i) throws IOException, Failure {
        expect(t, JsonToken.START_OBJECT, "Records", i, "s3.object", "an object");
        int seen = 0;
        String name;
        while ((name = p.nextFieldName()) != null) {
            var v = p.nextToken();
            switch (name) {
                case "key" -> {
                    seen = once(seen, 1, p, name);
                    r.key = objectKey(requireString(p, v, "Records", i, "s3.object.key"), i);
                }
                case "size" -> {
                    seen = once(seen, 2, p, name);
                    r.size = nonNegativeLong(p, v, "Records", i, "s3.object.size");
                }
                case "eTag" -> {
                    seen = once(seen, 4, p, name);
                    r.eTag = string(p, v, "Records", i, "s3.object.eTag");
                }
                case "versionId" -> {
                    seen = once(seen, 8, p, name);
                    r.versionId = string(p, v, "Records", i, "s3.object.versionId");
                }
                case "sequencer" -> {
                    seen = once(seen, 16, p, name);
                    r.sequencer = string(p, v, "Records", i, "s3.object.sequencer");
                }
                default -> p.skipChildren();
            }
        }
    }

    /** The key URL-decoded, or as it stands when it is not valid URL encoding (for attributes read later). */
    static String objectKeyOrRaw(String raw) {
        try {
            return objectKey(raw, 0);
        } catch (Failure e) {
            return raw;
        }
    }

    // ------------------------------------------------------------ fast path

    private static final byte[] RECORDS = Scan.ascii("Records");
    private static final byte[] EVENT_NAME = Scan.ascii("eventName");
    private static final byte[] EVENT_TIME = Scan.ascii("eventTime");
    private static final byte[] AWS_REGION = Scan.ascii("awsRegion");
    private static final byte[] S3 = Scan.ascii("s3");
    private static final byte[] BUCKET = Scan.ascii("bucket");
    private static final byte[] NAME = Scan.ascii("name");
    private static final byte[] OBJECT = Scan.ascii("object");
    private static final byte[] KEY = Scan.ascii("key");
    private static final byte[] SIZE = Scan.ascii("size");
    private static final byte[] ETAG = Scan.ascii("eTag");
    private static final byte[] VERSION_ID = Scan.ascii("versionId");
    private static final byte[] SEQUENCER = Scan.ascii("sequencer");

    /** The attributes, in the Jackson path's order; their spans come first in each record's slot. */
    static final SpanMap.Shape SHAPE = SpanMap.Shape.of(
            "bucket", SpanMap.Kind.STRING, "objectKey", SpanMap.Kind.OBJECT_KEY, "size", SpanMap.Kind.NUMBER,
            "eTag", SpanMap.Kind.STRING, "versionId", SpanMap.Kind.STRING, "sequencer", SpanMap.Kind.STRING,
            "eventName", SpanMap.Kind.STRING, "eventTime", SpanMap.Kind.STRING, "region", SpanMap.Kind.STRING);

    /** Per record: 9 attribute spans (2 ints each), then the record's start and end in the body. */
    private static final int STRIDE = 20;
    private static final int F_BUCKET = 0;
    private static final int F_KEY = 2;
    private static final int F_SIZE = 4;
    private static final int F_ETAG = 6;
    private static final int F_VERSION = 8;
    private static final int F_SEQUENCER = 10;
    private static final int F_EVENT_NAME = 12;
    private static final int F_EVENT_TIME = 14;
    private static final int F_REGION = 16;
    private static final int BOUNDS = 18;

    private final Interned names = new Interned();
    private final Interned buckets = new Interned();

    @Override
    protected Decoded fast(byte[] b, Delivery delivery) {
        int p = Scan.ws(b, 0);
        if (p >= b.length || b[p] != '{') {
            return null;
        }
        int[] slots = null;
        int count = 0;
        int testSeen = 0;
        p = Scan.first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = Scan.valueStart(b, ne)) < 0) {
                return null;
            }
            if (Scan.is(b, ns, ne, RECORDS)) {
                if (slots != null || b[p] != '[') {
                    return null;
                }
                slots = new int[STRIDE * Math.max(1, b.length / 700)];
                int q = Scan.first(b, p + 1, (byte) ']');
                while (q >= 0) {
                    if (b[q] != '{') {
                        return null;
                    }
                    if (STRIDE * (count + 1) > slots.length) {
                        slots = java.util.Arrays.copyOf(slots, slots.length * 2);
                    }
                    int end = record(b, q, slots, STRIDE * count);
                    if (end < 0) {
                        return null;
                    }
                    count++;
                    q = Scan.next(b, end, (byte) ']');
                }
                if (q == Scan.BAIL || count == 0) {
                    return null;
                }
                p = ~q;
            } else {
                int field = testEventField(b, ns, ne);
                if (field >= 0) {
                    // an s3:TestEvent's fields: strings or null, once each (the Jackson path reads test events)
                    if ((testSeen & field) != 0) {
                        return null;
                    }
                    testSeen |= field;
                    int q = scan.stringOrNull(b, p);
                    p = q == Scan.NULL_VALUE ? p + 4 : q < 0 ? Scan.BAIL : q + 1;
                } else {
                    p = scan.skipMember(b, ns, ne, p, 1);
                }
            }
            if (p < 0) {
                return null;
            }
            p = Scan.next(b, p, (byte) '}');
            if (p < Scan.BAIL) {
                p = ~p;
                break;
            }
        }
        if (p < 0 || slots == null || !Scan.atEnd(b, p)) {
            return null;
        }
        var events = new Event[count];
        for (int i = 0; i < count; i++) {
            events[i] = event(b, slots, STRIDE * i, i, count == 1);
            if (events[i] == null) {
                return null;
            }
        }
        return Decoded.of(List.of(events));
    }

    private static final byte[][] TEST_EVENT_FIELDS = {
        Scan.ascii("Service"), Scan.ascii("Event"), Scan.ascii("Time"), Scan.ascii("Bucket"), Scan.ascii("RequestId")};

    /** The bit of a top-level s3:TestEvent field named {@code [ns, ne)}, or -1. */
    private static int testEventField(byte[] b, int ns, int ne) {
        for (int i = 0; i < TEST_EVENT_FIELDS.length; i++) {
            if (Scan.is(b, ns, ne, TEST_EVENT_FIELDS[i])) {
                return 1 << i;
            }
        }
        return -1;
    }

    private Event event(byte[] b, int[] slots, int base, int index, boolean only) {
        String key;
        try {
            key = objectKey(b, slots[base + F_KEY], slots[base + F_KEY + 1], index);
        } catch (Failure e) {
            return null;
        }
        var object = slots[base + F_BUCKET] < 0 ? key
                : buckets.get(b, slots[base + F_BUCKET], slots[base + F_BUCKET + 1]) + "/" + key;
        String eventKey;
        if (slots[base + F_SEQUENCER] >= 0) {
            eventKey = "s3:" + object + "#" + Scan.string(b, slots[base + F_SEQUENCER], slots[base + F_SEQUENCER + 1]);
        } else {
            int version = slots[base + F_VERSION] >= 0 ? F_VERSION : slots[base + F_ETAG] >= 0 ? F_ETAG : -1;
            eventKey = keyWithoutSequencer(object,
                    version >= 0 ? Scan.string(b, slots[base + version], slots[base + version + 1]) : null,
                    slots[base + F_EVENT_NAME] >= 0 ? Scan.string(b, slots[base + F_EVENT_NAME], slots[base + F_EVENT_NAME + 1]) : null,
                    slots[base + F_EVENT_TIME] >= 0 ? Scan.string(b, slots[base + F_EVENT_TIME], slots[base + F_EVENT_TIME + 1]) : null,
                    index);
        }
        var type = slots[base + F_EVENT_NAME] < 0 ? UNNAMED
                : names.get(b, slots[base + F_EVENT_NAME], slots[base + F_EVENT_NAME + 1]);
        Instant time = null;
        if (slots[base + F_EVENT_TIME] >= 0) {
            time = Timestamps.parseUtc(b, slots[base + F_EVENT_TIME], slots[base + F_EVENT_TIME + 1]);
            if (time == null) {
                return null;
            }
        }
        var payload = only ? b : java.util.Arrays.copyOfRange(b, slots[base + BOUNDS], slots[base + BOUNDS + 1]);
        return new Event(eventKey, type, time, object, payload, new SpanMap(SHAPE, b, slots, base));
    }

    /** One record at {@code p} (its '{'); the position after it, or BAIL. */
    private int record(byte[] b, int p, int[] slots, int base) {
        java.util.Arrays.fill(slots, base, base + BOUNDS, -1);
        slots[base + BOUNDS] = p;
        int seen = 0;
        p = Scan.first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = Scan.valueStart(b, ne)) < 0) {
                return Scan.BAIL;
            }
            int bit;
            if (Scan.is(b, ns, ne, EVENT_NAME)) {
                bit = 1;
                p = scan.stringInto(b, p, slots, base + F_EVENT_NAME);
            } else if (Scan.is(b, ns, ne, EVENT_TIME)) {
                bit = 2;
                p = scan.stringInto(b, p, slots, base + F_EVENT_TIME);
            } else if (Scan.is(b, ns, ne, AWS_REGION)) {
                bit = 4;
                p = scan.stringInto(b, p, slots, base + F_REGION);
            } else if (Scan.is(b, ns, ne, S3)) {
                bit = 8;
                p = b[p] == '{' ? s3(b, p, slots, base) : Scan.BAIL;
            } else {
                bit = 0;
                p = scan.skipMember(b, ns, ne, p, 3);
            }
            if (p < 0 || (seen & bit) != 0) {
                return Scan.BAIL;
            }
            seen |= bit;
            p = Scan.next(b, p, (byte) '}');
            if (p < Scan.BAIL) {
                p = ~p;
                slots[base + BOUNDS + 1] = p;
                // every record names its object: a non-empty key
                return slots[base + F_KEY] < 0 || slots[base + F_KEY] == slots[base + F_KEY + 1] ? Scan.BAIL : p;
            }
        }
        return Scan.BAIL;
    }

    /** The record's {@code s3} object at {@code p}; the position after it, or BAIL. */
    private int s3(byte[] b, int p, int[] slots, int base) {
        int seen = 0;
        p = Scan.first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = Scan.valueStart(b, ne)) < 0) {
                return Scan.BAIL;
            }
            int bit;
            if (Scan.is(b, ns, ne, BUCKET)) {
                bit = 1;
                p = b[p] == '{' ? bucket(b, p, slots, base) : Scan.BAIL;
            } else if (Scan.is(b, ns, ne, OBJECT)) {
                bit = 2;
                p = b[p] == '{' ? object(b, p, slots, base) : Scan.BAIL;
            } else {
                bit = 0;
                p = scan.skipMember(b, ns, ne, p, 4);
            }
            if (p < 0 || (seen & bit) != 0) {
                return Scan.BAIL;
            }
            seen |= bit;
            p = Scan.next(b, p, (byte) '}');
            if (p < Scan.BAIL) {
                return ~p;
            }
        }
        return p == Scan.BAIL ? Scan.BAIL : ~p;
    }

    private int bucket(byte[] b, int p, int[] slots, int base) {
        int seen = 0;
        p = Scan.first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = Scan.valueStart(b, ne)) < 0) {
                return Scan.BAIL;
            }
            int bit = 0;
            if (Scan.is(b, ns, ne, NAME)) {
                bit = 1;
                // required and non-empty when the bucket object is there
                p = b[p] == '"' ? scan.stringInto(b, p, slots, base + F_BUCKET) : Scan.BAIL;
                if (p > 0 && slots[base + F_BUCKET] == slots[base + F_BUCKET + 1]) {
                    return Scan.BAIL;
                }
            } else {
                p = scan.skipMember(b, ns, ne, p, 5);
            }
            if (p < 0 || (seen & bit) != 0) {
                return Scan.BAIL;
            }
            seen |= bit;
            p = Scan.next(b, p, (byte) '}');
            if (p < Scan.BAIL) {
                return ~p;
            }
        }
        return p == Scan.BAIL ? Scan.BAIL : ~p;
    }

    private int object(byte[] b, int p, int[] slots, int base) {
        int seen = 0;
        p = Scan.first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = Scan.valueStart(b, ne)) < 0) {
                return Scan.BAIL;
            }
            int bit;
            if (Scan.is(b, ns, ne, KEY)) {
                bit = 1;
                p = b[p] == '"' ? scan.stringInto(b, p, slots, base + F_KEY) : Scan.BAIL;
            } else if (Scan.is(b, ns, ne, SIZE)) {
                bit = 2;
                int end = scan.numberEnd(b, p);
                if (end < 0 || Scan.nonNegativeLong(b, p, end) < 0) {
                    return Scan.BAIL;
                }
                slots[base + F_SIZE] = p;
                slots[base + F_SIZE + 1] = end;
                p = end;
            } else if (Scan.is(b, ns, ne, ETAG)) {
                bit = 4;
                p = scan.stringInto(b, p, slots, base + F_ETAG);
            } else if (Scan.is(b, ns, ne, VERSION_ID)) {
                bit = 8;
                p = scan.stringInto(b, p, slots, base + F_VERSION);
            } else if (Scan.is(b, ns, ne, SEQUENCER)) {
                bit = 16;
                p = scan.stringInto(b, p, slots, base + F_SEQUENCER);
            } else {
                bit = 0;
                p = scan.skipMember(b, ns, ne, p, 5);
            }
            if (p < 0 || (seen & bit) != 0) {
                return Scan.BAIL;
            }
            seen |= bit;
            p = Scan.next(b, p, (byte) '}');
            if (p < Scan.BAIL) {
                return ~p;
            }
        }
        return p == Scan.BAIL ? Scan.BAIL : ~p;
    }

    /**
     * {@link #objectKey(String, int)} straight from the JSON content {@code [start, end)}: plain
     * ASCII with {@code +} and {@code %XX} of ASCII bytes is decoded here, without a String in
     * between; anything else (escapes, non-ASCII, bad encoding) the way URLDecoder does it.
     */
    static String objectKey(byte[] b, int start, int end, int index) throws Failure {
        byte[] out = null;
        int o = 0;
        for (int i = start; i < end; i++) {
            byte c = b[i];
            if (c < 0 || c == '\\') {
                return objectKey(Scan.string(b, start, end), index);
            }
            if (c == '+' || c == '%') {
                if (out == null) {
                    out = new byte[end - start];
                    System.arraycopy(b, start, out, 0, i - start);
                    o = i - start;
                }
                if (c == '+') {
                    out[o++] = ' ';
                    continue;
                }
                int hi = i + 2 < end ? Scan.hex(b[i + 1]) : -1;
                int lo = hi >= 0 ? Scan.hex(b[i + 2]) : -1;
                if (lo < 0 || hi >= 8) {
                    return objectKey(Scan.string(b, start, end), index);
                }
                out[o++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (out != null) {
                out[o++] = c;
            }
        }
        return out == null ? Scan.string(b, start, end) : new String(out, 0, o, StandardCharsets.ISO_8859_1);
    }

    /** S3 URL-encodes keys in notifications (a space arrives as '+'). */
    static String objectKey(String raw, int index) throws Failure {
        if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) {
            return raw;
        }
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Failure(path("Records", index, "s3.object.key") + ": not a URL-encoded key: \"" + clip(raw) + "\" (" + e.getMessage() + ")");
        }
    }

    /**
     * Without a sequencer, the object's version (or eTag) names its content, not the event: two
     * events on one object (a put, then a tag change) would share it. The event's name and time
     * tell them apart. {@code record<index>} only when nothing at all identifies the event.
     */
    static String keyWithoutSequencer(String object, String version, String eventName, String eventTime, int index) {
        if (version == null && eventName == null && eventTime == null) {
            return "s3:" + object + "#record" + index;
        }
        return "s3:" + object + "#" + (version != null ? version : "") + "@" + (eventName != null ? eventName : "")
                + "@" + (eventTime != null ? eventTime : "");
    }

    private static Event event(Record r, int index, byte[] body, boolean only) throws Failure {
        var object = r.bucket == null ? r.key : r.bucket + "/" + r.key;
        var key = r.sequencer != null ? "s3:" + object + "#" + r.sequencer
                : keyWithoutSequencer(object, r.versionId != null ? r.versionId : r.eTag, r.eventName, r.eventTime, index);
        var type = r.eventName != null ? r.eventName : UNNAMED;
        Instant time = instant(r.eventTime, "Records", index, "eventTime");
        var attributes = new FlatMap.Builder(9)
                .put("bucket", r.bucket)
                .put("objectKey", r.key)
                .put("size", r.size >= 0 ? Long.toString(r.size) : null)
                .put("eTag", r.eTag)
                .put("versionId", r.versionId)
                .put("sequencer", r.sequencer)
                .put("eventName", r.eventName)
                .put("eventTime", r.eventTime)
                .put("region", r.region)
                .build();
        return new Event(key, type, time, object, slice(body, r.start, r.end, only), attributes);
    }
}
