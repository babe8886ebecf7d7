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

    /** Keys are sequencer- or EventDocId-based: the same object event or document is one event on any source. */
    @Override
    public boolean keysUniqueByNature() {
        return true;
    }

    MturkDecoder(JsonLimits limits) {
        super(limits);
    }

    private static final class Entry {
        String type;
        String timestamp;
        String hitTypeId;
        String hitId;
        String assignmentId;
        int index;
        long start;
        long end;
    }

    /** The fields of the document and of each of its events, for both paths. */
    /**
     * The longest EventDocId taken (MTurk's are GUIDs of 36 characters; each event's key carries it), and the longest
     * EventDocVersion and CustomerId (each event's attributes carry them).
     */
    static final int MAX_DOC_ID = 1024;
    static final Fields DOCUMENT = Fields.of("EventDocId", "EventDocVersion", "CustomerId", "Events");
    static final Fields EVENT = Fields.of("EventType", "EventTimestamp", "HITTypeId", "HITId", "AssignmentId");

    private static final class Document {
        String docId;
        String version;
        String customer;
        List<Entry> entries;
        int entryCount;
    }

    @Override
    protected Decoded read(JsonParser p, Delivery delivery) throws IOException, Failure {
        expectRootObject(p, "an MTurk event document");
        var d = new Document();
        Members.object(p, DOCUMENT, MturkDecoder::documentField, d);
        expectEnd(p);
        var docId = d.docId;
        var version = d.version;
        var customer = d.customer;
        var entries = d.entries;
        if (docId == null) {
            throw new Failure("EventDocId: missing, every MTurk event document has one");
        }
        if (docId.length() > MAX_DOC_ID) {
            // it is in every event's key: 250,000 characters times 13,000 events of a 1 MiB body would be gigabytes
            throw new Failure("EventDocId: " + docId.length() + " characters, more than " + MAX_DOC_ID
                    + " (MTurk's are 36): " + clip(docId));
        }
        // copied onto every event as an attribute: 260,000 characters times 8,000 events of a 1 MiB body were gigabytes
        // written by a file sink for one message (MTurk's are a customer id and a date)
        tooLong("EventDocVersion", version);
        tooLong("CustomerId", customer);
        if (entries == null) {
            throw new Failure("Events: missing, expected an array of events");
        }
        // with MAX_DOC_ID, it bounds the keys' characters by SnsDecoder.MAX_COPIED too: 1,024 times 1,000
        EntrySlots.notTooMany(d.entryCount, "Events", "event");
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

    private static void tooLong(String field, String value) throws Failure {
        if (value != null && value.length() > MAX_DOC_ID) {
            throw new Failure(field + ": " + value.length() + " characters, more than " + MAX_DOC_ID
                    + " (it goes with each of the document's events): " + clip(value));
        }
    }

    private final MturkFastPath fastPath = new MturkFastPath(scan);

    @Override
    protected Decoded fast(byte[] b, Delivery delivery) {
        return fastPath.decode(b);
    }

    private static void documentField(Document d, JsonParser p, int field, JsonToken t) throws IOException, Failure {
        var name = DOCUMENT.name(field);
        switch (field) {
            case 0 -> d.docId = requireString(p, t, null, -1, name);
            case 1 -> d.version = string(p, t, null, -1, name);
            case 2 -> d.customer = string(p, t, null, -1, name);
            default -> d.entries = objects(p, t, "Events", "event", MturkDecoder::entry, n -> d.entryCount = n);
        }
    }

    private static Entry entry(JsonParser p, int i) throws IOException, Failure {
        var e = new Entry();
        e.index = i;
        e.start = p.currentTokenLocation().getByteOffset();
        Members.object(p, EVENT, MturkDecoder::eventField, e);
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

    private static void eventField(Entry e, JsonParser p, int field, JsonToken t) throws IOException, Failure {
        var name = EVENT.name(field);
        switch (field) {
            case 0 -> e.type = requireString(p, t, "Events", e.index, name);
            case 1 -> e.timestamp = requireString(p, t, "Events", e.index, name);
            case 2 -> e.hitTypeId = string(p, t, "Events", e.index, name);
            case 3 -> e.hitId = string(p, t, "Events", e.index, name);
            default -> e.assignmentId = string(p, t, "Events", e.index, name);
        }
    }
}
