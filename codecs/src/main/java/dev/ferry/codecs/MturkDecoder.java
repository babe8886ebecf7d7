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

    // ------------------------------------------------------------ fast path

    private static final byte[] EVENT_DOC_ID = Scan.ascii("EventDocId");
    private static final byte[] EVENT_DOC_VERSION = Scan.ascii("EventDocVersion");
    private static final byte[] CUSTOMER_ID = Scan.ascii("CustomerId");
    private static final byte[] EVENTS = Scan.ascii("Events");
    private static final byte[] EVENT_TYPE = Scan.ascii("EventType");
    private static final byte[] EVENT_TIMESTAMP = Scan.ascii("EventTimestamp");
    private static final byte[] HIT_TYPE_ID = Scan.ascii("HITTypeId");
    private static final byte[] HIT_ID = Scan.ascii("HITId");
    private static final byte[] ASSIGNMENT_ID = Scan.ascii("AssignmentId");

    /** The attributes, in the Jackson path's order; their spans come first in each event's slot of {@code int[]}. */
    static final SpanMap.Shape SHAPE = SpanMap.Shape.of(
            "EventDocId", SpanMap.Kind.STRING, "EventDocVersion", SpanMap.Kind.STRING,
            "CustomerId", SpanMap.Kind.STRING, "EventType", SpanMap.Kind.STRING,
            "EventTimestamp", SpanMap.Kind.STRING, "HITTypeId", SpanMap.Kind.STRING,
            "HITId", SpanMap.Kind.STRING, "AssignmentId", SpanMap.Kind.STRING);

    /** Per event: 8 attribute spans (2 ints each), then the entry's start and end in the body. */
    private static final int STRIDE = 18;
    private static final int TYPE = 6;
    private static final int TIMESTAMP = 8;
    private static final int HIT_TYPE = 10;
    private static final int HIT = 12;
    private static final int ASSIGNMENT = 14;
    private static final int BOUNDS = 16;

    private final Interned types = new Interned();

    @Override
    protected Decoded fast(byte[] b, Delivery delivery) {
        int p = Scan.ws(b, 0);
        if (p >= b.length || b[p] != '{') {
            return null;
        }
        int[] doc = {-1, -1, -1, -1, -1, -1};
        int[] slots = null;
        int count = -1;
        int seen = 0;
        p = Scan.first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = Scan.valueStart(b, ne)) < 0) {
                return null;
            }
            int bit;
            if (Scan.is(b, ns, ne, EVENTS)) {
                bit = 8;
                if (b[p] != '[') {
                    return null;
                }
                slots = new int[STRIDE * Math.max(1, b.length / 180)];
                count = 0;
                int q = Scan.first(b, p + 1, (byte) ']');
                while (q >= 0) {
                    if (b[q] != '{') {
                        return null;
                    }
                    if (STRIDE * (count + 1) > slots.length) {
                        slots = java.util.Arrays.copyOf(slots, slots.length * 2);
                    }
                    int end = entry(b, q, slots, STRIDE * count);
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
                int field = Scan.is(b, ns, ne, EVENT_DOC_ID) ? 0
                        : Scan.is(b, ns, ne, EVENT_DOC_VERSION) ? 1 : Scan.is(b, ns, ne, CUSTOMER_ID) ? 2 : -1;
                if (field < 0) {
                    bit = 0;
                    p = scan.skipMember(b, ns, ne, p, 1);
                } else {
                    bit = 1 << field;
                    p = scan.stringInto(b, p, doc, 2 * field);
                }
            }
            if ((seen & bit) != 0 || p < 0) {
                return null;
            }
            seen |= bit;
            p = Scan.next(b, p, (byte) '}');
            if (p < Scan.BAIL) {
                p = ~p;
                break;
            }
        }
        if (p < 0 || !Scan.atEnd(b, p) || slots == null || doc[0] < 0 || doc[1] == doc[0]) {
            return null;
        }
        var docId = Scan.string(b, doc[0], doc[1]);
        var events = new Event[count];
        for (int i = 0; i < count; i++) {
            int base = STRIDE * i;
            System.arraycopy(doc, 0, slots, base, 6);
            var type = types.get(b, slots[base + TYPE], slots[base + TYPE + 1]);
            var time = Timestamps.parseUtc(b, slots[base + TIMESTAMP], slots[base + TIMESTAMP + 1]);
            if (time == null) {
                return null;
            }
            var hitId = slots[base + HIT] < 0 ? null : Scan.string(b, slots[base + HIT], slots[base + HIT + 1]);
            if ((hitId == null || hitId.isEmpty()) && !PING.equals(type)) {
                return null;
            }
            var payload = count == 1 ? b : java.util.Arrays.copyOfRange(b, slots[base + BOUNDS], slots[base + BOUNDS + 1]);
            events[i] = new Event("mturk:" + docId + "#" + i, type, time, hitId, payload, new SpanMap(SHAPE, b, slots, base));
        }
        return Decoded.of(List.of(events));
    }

    /** Reads one entry of Events[] at {@code p} (its '{') into {@code slots} from {@code base}; the position after it, or BAIL. */
    private int entry(byte[] b, int p, int[] slots, int base) {
        java.util.Arrays.fill(slots, base + TYPE, base + BOUNDS, -1);
        slots[base + BOUNDS] = p;
        int seen = 0;
        p = Scan.first(b, p + 1, (byte) '}');
        while (p >= 0) {
            int ns = p + 1;
            int ne = scan.nameEnd(b, p);
            if (ne < 0 || (p = Scan.valueStart(b, ne)) < 0) {
                return Scan.BAIL;
            }
            int slot = Scan.is(b, ns, ne, EVENT_TYPE) ? TYPE
                    : Scan.is(b, ns, ne, EVENT_TIMESTAMP) ? TIMESTAMP
                    : Scan.is(b, ns, ne, HIT_TYPE_ID) ? HIT_TYPE
                    : Scan.is(b, ns, ne, HIT_ID) ? HIT
                    : Scan.is(b, ns, ne, ASSIGNMENT_ID) ? ASSIGNMENT : -1;
            if (slot < 0) {
                p = scan.skipMember(b, ns, ne, p, 3);
            } else {
                int bit = 1 << slot;
                if ((seen & bit) != 0) {
                    return Scan.BAIL;
                }
                seen |= bit;
                p = scan.stringInto(b, p, slots, base + slot);
            }
            if (p < 0) {
                return Scan.BAIL;
            }
            p = Scan.next(b, p, (byte) '}');
            if (p < Scan.BAIL) {
                p = ~p;
                slots[base + BOUNDS + 1] = p;
                // EventType and EventTimestamp are required and non-empty
                if (slots[base + TYPE] < 0 || slots[base + TYPE] == slots[base + TYPE + 1]
                        || slots[base + TIMESTAMP] < 0 || slots[base + TIMESTAMP] == slots[base + TIMESTAMP + 1]) {
                    return Scan.BAIL;
                }
                return p;
            }
        }
        return Scan.BAIL;
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
