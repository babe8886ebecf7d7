package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.util.ArrayList;
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
        String name;
        while ((name = p.nextFieldName()) != null) {
            var t = p.nextToken();
            switch (name) {
                case "EventDocId" -> docId = requireString(p, t, "EventDocId");
                case "EventDocVersion" -> version = string(p, t, "EventDocVersion");
                case "CustomerId" -> customer = string(p, t, "CustomerId");
                case "Events" -> entries = entries(p, t);
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
        var events = new ArrayList<Event>(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            var e = entries.get(i);
            var path = "Events[" + i + "]";
            var time = instant(e.timestamp, path + ".EventTimestamp");
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
            events.add(new Event("mturk:" + docId + "#" + i, e.type, time, e.hitId,
                    slice(body, e.start, e.end, entries.size() == 1), attributes));
        }
        return Decoded.of(events);
    }

    private List<Entry> entries(JsonParser p, JsonToken t) throws IOException, Failure {
        expect(t, JsonToken.START_ARRAY, "Events", "an array of events");
        var entries = new ArrayList<Entry>(1);
        JsonToken next;
        while ((next = p.nextToken()) != JsonToken.END_ARRAY) {
            var path = "Events[" + entries.size() + "]";
            expect(next, JsonToken.START_OBJECT, path, "an event object");
            entries.add(entry(p, path));
        }
        if (entries.isEmpty()) {
            throw new Failure("Events: empty, expected at least one event");
        }
        return entries;
    }

    private Entry entry(JsonParser p, String path) throws IOException, Failure {
        var e = new Entry();
        e.start = p.currentTokenLocation().getByteOffset();
        String name;
        while ((name = p.nextFieldName()) != null) {
            var t = p.nextToken();
            switch (name) {
                case "EventType" -> e.type = requireString(p, t, path + ".EventType");
                case "EventTimestamp" -> e.timestamp = requireString(p, t, path + ".EventTimestamp");
                case "HITTypeId" -> e.hitTypeId = string(p, t, path + ".HITTypeId");
                case "HITId" -> e.hitId = string(p, t, path + ".HITId");
                case "AssignmentId" -> e.assignmentId = string(p, t, path + ".AssignmentId");
                default -> p.skipChildren();
            }
        }
        e.end = p.currentLocation().getByteOffset();
        if (e.type == null) {
            throw new Failure(path + ".EventType: missing");
        }
        if (e.timestamp == null) {
            throw new Failure(path + ".EventTimestamp: missing");
        }
        if (!PING.equals(e.type) && (e.hitId == null || e.hitId.isEmpty())) {
            throw new Failure(path + ".HITId: missing, every " + e.type + " event names its HIT");
        }
        return e;
    }
}
