package dev.ferry.codecs;

import dev.ferry.codecs.JsonSupport.Failure;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Event;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * {@link S3Decoder}'s fast path: an S3 event notification's records read from its bytes with
 * {@link Members}, their attributes kept as spans of the body ({@link SpanMap}). Null for anything
 * it is not sure of — test events included —; the Jackson path then decides.
 */
final class S3FastPath {

    /** The attributes, in the Jackson path's order; their spans come first in each record's slot. */
    static final SpanMap.Shape SHAPE = SpanMap.Shape.of(
            "bucket", SpanMap.STRING, "objectKey", S3ObjectKeys.ATTRIBUTE, "size", SpanMap.NUMBER,
            "eTag", SpanMap.STRING, "versionId", SpanMap.STRING, "sequencer", SpanMap.STRING,
            "eventName", SpanMap.STRING, "eventTime", SpanMap.STRING, "region", SpanMap.STRING);

    /** Per record: 9 attribute spans (2 ints each, in {@link #SHAPE}'s order), then the record's bounds in the body. */
    private static final int STRIDE = 20;
    private static final int F_BUCKET = 0;
    private static final int F_KEY = 2;
    private static final int F_SIZE = 4;
    private static final int F_ETAG = 6;
    private static final int F_VERSION = 8;
    private static final int F_SEQUENCER = 10;
    private static final int F_EVENT_NAME = 12;
    private static final int F_EVENT_TIME = 14;
    private static final int BOUNDS = 18;

    private final Scan scan;
    private final Interned names = new Interned();
    private final Interned buckets = new Interned();

    S3FastPath(Scan scan) {
        this.scan = scan;
    }

    /** What one notification is read into: its records' spans. */
    private static final class Read extends EntrySlots {
        Read(Scan scan) {
            super(scan, STRIDE);
        }
    }

    private static final Members.Reader<Read> NOTIFICATION_FIELD = (r, b, field, p) ->
            field == S3Decoder.RECORDS ? records(r, b, p) : testEventField(r, b, p);

    private static final Members.Reader<Read> RECORD = S3FastPath::record;

    private static final Members.Reader<Read> RECORD_FIELD = (r, b, field, p) -> field == S3Decoder.S3
            ? Members.object(r.scan, b, p, 4, S3Decoder.S3_FIELDS, S3FastPath.S3_FIELD, r)
            : r.scan.stringInto(b, p, r.slots, r.base + F_EVENT_NAME + 2 * field);

    private static final Members.Reader<Read> S3_FIELD = (r, b, field, p) -> field == S3Decoder.BUCKET
            ? Members.object(r.scan, b, p, 5, S3Decoder.BUCKET_FIELDS, S3FastPath.BUCKET_FIELD, r)
            : Members.object(r.scan, b, p, 5, S3Decoder.OBJECT_FIELDS, S3FastPath.OBJECT_FIELD, r);

    /** The bucket's name: required and non-empty when the bucket object is there. */
    private static final Members.Reader<Read> BUCKET_FIELD = (r, b, field, p) -> {
        int end = b[p] == '"' ? r.scan.stringInto(b, p, r.slots, r.base + F_BUCKET) : Scan.BAIL;
        return end > 0 && r.slots[r.base + F_BUCKET] == r.slots[r.base + F_BUCKET + 1] ? Scan.BAIL : end;
    };

    private static final Members.Reader<Read> OBJECT_FIELD = (r, b, field, p) -> switch (field) {
        case S3Decoder.KEY -> b[p] == '"' ? r.scan.stringInto(b, p, r.slots, r.base + F_KEY) : Scan.BAIL;
        case S3Decoder.SIZE -> {
            int end = r.scan.numberEnd(b, p);
            if (end < 0 || Scan.nonNegativeLong(b, p, end) < 0) {
                yield Scan.BAIL;
            }
            r.slots[r.base + F_SIZE] = p;
            r.slots[r.base + F_SIZE + 1] = end;
            yield end;
        }
        default -> r.scan.stringInto(b, p, r.slots, r.base + F_ETAG + 2 * (field - S3Decoder.ETAG));
    };

    Decoded decode(byte[] b) {
        var r = new Read(scan);
        int p = Members.object(scan, b, Scan.ws(b, 0), 1, S3Decoder.NOTIFICATION, NOTIFICATION_FIELD, r);
        if (p < 0 || r.slots == null || !Scan.atEnd(b, p)) {
            return null;
        }
        int count = r.count;
        var events = new Event[count];
        for (int i = 0; i < count; i++) {
            events[i] = event(b, r.slots, STRIDE * i, i, count == 1);
            if (events[i] == null) {
                return null;
            }
        }
        return Decoded.of(List.of(events));
    }

    /** A test event's field: checked (a string or null) and dropped, the fast path does not read test events. */
    private static int testEventField(Read r, byte[] b, int p) {
        return r.scan.stringInto(b, p, new int[2], 0);
    }

    private static int records(Read r, byte[] b, int p) {
        return EntrySlots.entries(r, b, p, 700, RECORD);
    }

    /** Record {@code index} of Records[] at {@code p}; the position after it, or BAIL. */
    private static int record(Read r, byte[] b, int index, int p) {
        if (index >= EntrySlots.MAX_ENTRIES) {
            return Scan.BAIL; // too many: the Jackson path counts them and says so
        }
        int base = r.begin(index, p, 0);
        int end = Members.object(r.scan, b, p, 3, S3Decoder.RECORD_FIELDS, RECORD_FIELD, r);
        var slots = r.slots;
        // every record names its object: a non-empty key
        if (end < 0 || slots[base + F_KEY] < 0 || slots[base + F_KEY] == slots[base + F_KEY + 1]) {
            return Scan.BAIL;
        }
        return r.end(index, end);
    }

    private Event event(byte[] b, int[] slots, int base, int index, boolean only) {
        String key;
        try {
            key = S3ObjectKeys.decode(b, slots[base + F_KEY], slots[base + F_KEY + 1], index);
        } catch (Failure e) {
            return null;
        }
        var object = S3Decoder.object(slots[base + F_BUCKET] < 0 ? null
                : buckets.get(b, slots[base + F_BUCKET], slots[base + F_BUCKET + 1]), key);
        String eventKey;
        String sequencer = string(b, slots, base + F_SEQUENCER);
        if (S3Decoder.present(sequencer)) {
            eventKey = "s3:" + object + "#" + sequencer;
        } else {
            String version = string(b, slots, base + F_VERSION);
            if (!S3Decoder.present(version)) {
                version = string(b, slots, base + F_ETAG);
            }
            eventKey = S3Decoder.keyWithoutSequencer(object, S3Decoder.present(version) ? version : null,
                    string(b, slots, base + F_EVENT_NAME), string(b, slots, base + F_EVENT_TIME), index, b);
        }
        var type = slots[base + F_EVENT_NAME] < 0 ? S3Decoder.UNNAMED
                : names.get(b, slots[base + F_EVENT_NAME], slots[base + F_EVENT_NAME + 1]);
        Instant time = null;
        if (slots[base + F_EVENT_TIME] >= 0) {
            time = Timestamps.parseUtc(b, slots[base + F_EVENT_TIME], slots[base + F_EVENT_TIME + 1]);
            if (time == null) {
                return null;
            }
        }
        var payload = only ? b : Arrays.copyOfRange(b, slots[base + BOUNDS], slots[base + BOUNDS + 1]);
        return new Event(eventKey, type, time, object, payload, new SpanMap(SHAPE, b, slots, base));
    }

    /** The string of the span at {@code at}, or null when it is absent. */
    private static String string(byte[] b, int[] slots, int at) {
        return slots[at] < 0 ? null : JsonStrings.string(b, slots[at], slots[at + 1]);
    }
}
