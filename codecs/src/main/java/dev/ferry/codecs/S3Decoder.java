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

    private static Event event(Record r, int index, byte[] body, boolean only) throws Failure {
        var object = r.bucket == null ? r.key : r.bucket + "/" + r.key;
        var version = r.sequencer != null ? r.sequencer : r.versionId != null ? r.versionId : r.eTag;
        var key = "s3:" + object + "#" + (version != null ? version : "record" + index);
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
