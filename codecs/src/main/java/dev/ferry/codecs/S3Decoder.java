package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.io.IOException;
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
        int index;
        long start;
        long end;
    }

    /** The fields each object of a notification is read for, on both paths. */
    static final Fields NOTIFICATION = Fields.of("Records", "Service", "Event", "Time", "Bucket", "RequestId");
    static final int RECORDS = 0;
    static final Fields RECORD_FIELDS = Fields.of("eventName", "eventTime", "awsRegion", "s3");
    static final int S3 = 3;
    static final Fields S3_FIELDS = Fields.of("bucket", "object");
    static final int BUCKET = 0;
    static final Fields BUCKET_FIELDS = Fields.of("name");
    static final Fields OBJECT_FIELDS = Fields.of("key", "size", "eTag", "versionId", "sequencer");
    static final int KEY = 0;
    static final int SIZE = 1;
    static final int ETAG = 2;

    /** A notification as the Jackson path reads it: its records, or a test event's fields (1..5, as in NOTIFICATION). */
    private static final class Notification {
        List<Record> records;
        int recordCount;
        final String[] test = new String[6];
    }

    @Override
    protected Decoded read(JsonParser p, Delivery delivery) throws IOException, Failure {
        expectRootObject(p, "an S3 event notification");
        var n = new Notification();
        Members.object(p, NOTIFICATION, S3Decoder::notificationField, n);
        expectEnd(p);
        var records = n.records;
        String service = n.test[1];
        String event = n.test[2];
        String time = n.test[3];
        String bucket = n.test[4];
        String requestId = n.test[5];
        var body = delivery.body();
        if (records != null) {
            EntrySlots.notTooMany(n.recordCount, "Records", "record");
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

    private static void notificationField(Notification n, JsonParser p, int field, JsonToken t) throws IOException, Failure {
        if (field == RECORDS) {
            n.records = objects(p, t, "Records", "record", S3Decoder::record, count -> n.recordCount = count);
        } else {
            n.test[field] = string(p, t, null, -1, NOTIFICATION.name(field));
        }
    }

    private static Record record(JsonParser p, int i) throws IOException, Failure {
        var r = new Record();
        r.index = i;
        r.start = p.currentTokenLocation().getByteOffset();
        Members.object(p, RECORD_FIELDS, S3Decoder::recordField, r);
        r.end = p.currentLocation().getByteOffset();
        if (r.key == null) {
            throw new Failure(path("Records", i, "s3.object.key") + ": missing, every record names its object");
        }
        return r;
    }

    private static void recordField(Record r, JsonParser p, int field, JsonToken t) throws IOException, Failure {
        var name = RECORD_FIELDS.name(field);
        switch (field) {
            case 0 -> r.eventName = string(p, t, "Records", r.index, name);
            case 1 -> r.eventTime = string(p, t, "Records", r.index, name);
            case 2 -> r.region = string(p, t, "Records", r.index, name);
            default -> {
                expect(t, JsonToken.START_OBJECT, "Records", r.index, "s3", "an object");
                Members.object(p, S3_FIELDS, S3Decoder::s3Field, r);
            }
        }
    }

    private static void s3Field(Record r, JsonParser p, int field, JsonToken t) throws IOException, Failure {
        if (field == BUCKET) {
            expect(t, JsonToken.START_OBJECT, "Records", r.index, "s3.bucket", "an object");
            Members.object(p, BUCKET_FIELDS,
                    (Record rec, JsonParser q, int f, JsonToken v) -> rec.bucket = requireString(q, v, "Records", rec.index, "s3.bucket.name"), r);
        } else {
            expect(t, JsonToken.START_OBJECT, "Records", r.index, "s3.object", "an object");
            Members.object(p, OBJECT_FIELDS, S3Decoder::objectField, r);
        }
    }

    private static void objectField(Record r, JsonParser p, int field, JsonToken t) throws IOException, Failure {
        int i = r.index;
        switch (field) {
            case KEY -> r.key = S3ObjectKeys.decode(requireString(p, t, "Records", i, "s3.object.key"), i);
            case SIZE -> r.size = nonNegativeLong(p, t, "Records", i, "s3.object.size");
            case ETAG -> r.eTag = string(p, t, "Records", i, "s3.object.eTag");
            case 3 -> r.versionId = string(p, t, "Records", i, "s3.object.versionId");
            default -> r.sequencer = string(p, t, "Records", i, "s3.object.sequencer");
        }
    }

    private final S3FastPath fastPath = new S3FastPath(scan);

    @Override
    protected Decoded fast(byte[] b, Delivery delivery) {
        return fastPath.decode(b);
    }

    /**
     * Without a sequencer, the object's version (or eTag) names its content, not the event: two
     * events on one object (a put, then a tag change) would share it. The event's name and time
     * tell them apart. Without a time nothing does — a name is the same for every put, a version or an
     * eTag for every event on that content — so then {@code record<index>} and a hash of the whole
     * message: the same message received again is the same event, another message about the same
     * object is not (keyed by its name or eTag alone, it was dropped as the first one's duplicate).
     * S3 itself always sends a time (and a sequencer): its keys are as they were.
     */
    static String keyWithoutSequencer(String object, String version, String eventName, String eventTime, int index,
                                      byte[] body) {
        if (!present(eventTime)) {
            return "s3:" + object + "#record" + index + "@" + contentHash(body);
        }
        return "s3:" + object + "#" + (version != null ? version : "") + "@" + (eventName != null ? eventName : "")
                + "@" + (eventTime != null ? eventTime : "");
    }

    /**
     * 24 hex digits of the body's SHA-256 — once per body: every record without an identifier asks for
     * it, and a megabyte of such records hashed the megabyte tens of thousands of times, on the poller.
     */
    static String contentHash(byte[] body) {
        var last = LAST_HASH.get();
        if (last != null && last.body().get() == body) {
            return last.hash();
        }
        String hash;
        try {
            hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body), 0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        LAST_HASH.set(new BodyHash(new java.lang.ref.WeakReference<>(body), hash));
        return hash;
    }

    /** The last body hashed on a thread (held weakly), and its hash. */
    private record BodyHash(java.lang.ref.WeakReference<byte[]> body, String hash) {
    }

    private static final ThreadLocal<BodyHash> LAST_HASH = new ThreadLocal<>();

    /** Whether an identifier is there: not null, not empty. */
    static boolean present(String identifier) {
        return identifier != null && !identifier.isEmpty();
    }

    /** The object as its event keys name it: {@code bucket/key}, or the key alone in a record without a bucket. */
    static String object(String bucket, String key) {
        return bucket == null ? key : bucket + "/" + key;
    }

    private static Event event(Record r, int index, byte[] body, boolean only) throws Failure {
        var object = object(r.bucket, r.key);
        // an empty identifier (an S3-compatible store's) is none: as one, every event of the object had one key
        var key = present(r.sequencer) ? "s3:" + object + "#" + r.sequencer
                : keyWithoutSequencer(object, present(r.versionId) ? r.versionId : present(r.eTag) ? r.eTag : null,
                        r.eventName, r.eventTime, index, body);
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
