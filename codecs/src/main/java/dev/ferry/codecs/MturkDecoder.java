package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.util.List;

/**
 * Amazon Mechanical Turk event documents (notifications through SQS):
 * {@code {EventDocVersion, EventDocId, CustomerId, Events:[{EventType, EventTimestamp, HITTypeId, HITId, AssignmentId?}]}}.
 *
 * <p>One event per {@code Events[]} entry. Its key is {@code mturk:EventDocId#index}, so the same
 * document arriving under two SQS MessageIds is handled once; its group key is the HITId; its type
 * the EventType. The {@code Ping} event of SendTestEventNotification decodes too (HIT fields optional).
 */
final class MturkDecoder extends JsonSupport {

    static final String PING = "Ping";

    MturkDecoder(JsonLimits limits) {
        super(limits);
    }

    private static final class Entry {
        String type;
        String timestamp;
        String hitTypeId;
        String hitId;
        String assignmentId;
        long start;
        long end;
    }

    @Override
    protected Decoded read(JsonParser p, Delivery delivery) throws IOException, Failure {
        expectRootObject(p, "an MTurk event document");
        String docId = null;
        String version = null;
        String customer = null;
        List<Entry> entries = null;
        int seen = 0;
        String name;
        while ((name = p.nextFieldName()) != null) {
            var t = p.nextToken();
            switch (name) {
                case "EventDocId" -> {
                    seen = once(seen, 1, p, name);
                    docId = requireString(p, t, null, -1, name);
                }
                case "EventDocVersion" -> {
                    seen = once(seen, 2, p, name);
                    version = string(p, t, null, -1, name);
                }
                case "CustomerId" -> {
                    seen = once(seen, 4, p, name);
                    customer = string(p, t, null, -1, name);
                }
                case "Events" -> {
                    seen = once(seen, 8, p, name);
                    entries = objects(p, t, "Events", "event", this::entry);
                }
                default -> p.skipChildren();
            }
        }
        expectEnd(p);
        if (docId == null) {
            throw new Failure("EventDocId: missing, every MTurk event document has one");
        }
        if (entries == null) {
            throw new Failure("Events: missing, expected an array of events");
        }
        var body = delivery.body();
        var events = new Event[entries.size()];
        var keyPrefix = "mturk:" + docId + "#";
        for (int i = 0; i < events.length; i++) {
            var e = entries.get(i);
            var time = instant(e.timestamp, "Events", i, "EventTimestamp");
            var attributes = new FlatMap.Builder(8)
                    .put("EventDocId", docId)
                    .put("EventDocVersion", version)
                    .put("CustomerId", customer)
                    .put("EventType", e.type)
                    .put("EventTimestamp", e.timestamp)
                    .put("HITTypeId", e.hitTypeId)
                    .put("HITId", e.hitId)
                    .put("AssignmentId", e.assignmentId)
                    .build();
            events[i] = new Event(keyPrefix + i, e.type, time, e.hitId, slice(body, e.start, e.end, events.length == 1),
                    attributes);
        }
        return Decoded.of(List.of(events));
    }

    private Entry entry(JsonParser p, int i) throws IOException, Failure {
        var e = new Entry();
        e.start = p.currentTokenLocation().getByteOffset();
        int seen = 0;
        String name;
        while ((name = p.nextFieldName()) != null) {
            var t = p.nextToken();
            switch (name) {
                case "EventType" -> {
                    seen = once(seen, 1, p, name);
                    e.type = requireString(p, t, "Events", i, name);
                }
                case "EventTimestamp" -> {
                    seen = once(seen, 2, p, name);
                    e.timestamp = requireString(p, t, "Events", i, name);
                }
                case "HITTypeId" -> {
                    seen = once(seen, 4, p, name);
                    e.hitTypeId = string(p, t, "Events", i, name);
                }
                case "HITId" -> {
                    seen = once(seen, 8, p, name);
                    e.hitId = string(p, t, "Events", i, name);
                }
                case "AssignmentId" -> {
                    seen = once(seen, 16, p, name);
                    e.assignmentId = string(p, t, "Events", i, name);
                }
                default -> p.skipChildren();
            }
        }
        e.end = p.currentLocation().getByteOffset();
        if (e.type == null) {
            throw new Failure(path("Events", i, "EventType") + ": missing");
        }
        if (e.timestamp == null) {
            throw new Failure(path("Events", i, "EventTimestamp") + ": missing");
        }
        if (!PING.equals(e.type) && (e.hitId == null || e.hitId.isEmpty())) {
            throw new Failure(path("Events", i, "HITId") + ": missing, every " + e.type + " event names its HIT");
        }
        return e;
    }
}
