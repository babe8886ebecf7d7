package dev.ferry.codecs;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Event;
import java.util.Arrays;
import java.util.List;

/**
 * {@link MturkDecoder}'s fast path: an MTurk event document read from its bytes with
 * {@link Members}, its attributes kept as spans of the body ({@link SpanMap}). Null for anything
 * it is not sure of; the Jackson path then decides.
 */
final class MturkFastPath {

    private static final Fields DOCUMENT = MturkDecoder.DOCUMENT;
    private static final int EVENTS = 3;
    private static final Fields EVENT = MturkDecoder.EVENT;

    /** The attributes, in the Jackson path's order; their spans come first in each event's slot of {@code int[]}. */
    static final SpanMap.Shape SHAPE = SpanMap.Shape.of(
            "EventDocId", SpanMap.STRING, "EventDocVersion", SpanMap.STRING,
            "CustomerId", SpanMap.STRING, "EventType", SpanMap.STRING,
            "EventTimestamp", SpanMap.STRING, "HITTypeId", SpanMap.STRING,
            "HITId", SpanMap.STRING, "AssignmentId", SpanMap.STRING);

    /** Per event: the 3 document spans, the 5 of its entry (2 ints each, in {@link #EVENT}'s order), its bounds. */
    private static final int STRIDE = 18;
    private static final int TYPE = 6;
    private static final int TIMESTAMP = 8;
    private static final int HIT = 12;
    private static final int BOUNDS = 16;

    private final Scan scan;
    private final Interned types = new Interned();

    MturkFastPath(Scan scan) {
        this.scan = scan;
    }

    /** What one document is read into: its own spans, then its events'. */
    private static final class Read extends EntrySlots {
        final int[] doc = {-1, -1, -1, -1, -1, -1};

        Read(Scan scan) {
            super(scan, STRIDE);
        }
    }

    private static final Members.Reader<Read> DOCUMENT_FIELD = (r, b, field, p) ->
            field == EVENTS ? events(r, b, p) : r.scan.stringInto(b, p, r.doc, 2 * field);

    private static final Members.Reader<Read> ENTRY = MturkFastPath::entry;

    private static final Members.Reader<Read> EVENT_FIELD = (r, b, field, p) ->
            r.scan.stringInto(b, p, r.slots, r.base + TYPE + 2 * field);

    Decoded decode(byte[] b) {
        var r = new Read(scan);
        int p = Members.object(scan, b, Scan.ws(b, 0), 1, DOCUMENT, DOCUMENT_FIELD, r);
        var doc = r.doc;
        if (p < 0 || !Scan.atEnd(b, p) || r.slots == null || doc[0] < 0 || doc[1] == doc[0]) {
            return null;
        }
        var docId = JsonStrings.string(b, doc[0], doc[1]);
        if (docId.length() > MturkDecoder.MAX_DOC_ID || doc[3] - doc[2] > MturkDecoder.MAX_DOC_ID
                || doc[5] - doc[4] > MturkDecoder.MAX_DOC_ID) {
            return null; // the full decoder says why (version and customer spans in bytes: it counts their characters)
        }
        var slots = r.slots;
        int count = r.count;
        var events = new Event[count];
        for (int i = 0; i < count; i++) {
            int base = STRIDE * i;
            System.arraycopy(doc, 0, slots, base, 6);
            var type = types.get(b, slots[base + TYPE], slots[base + TYPE + 1]);
            var time = Timestamps.parseUtc(b, slots[base + TIMESTAMP], slots[base + TIMESTAMP + 1]);
            if (time == null) {
                return null;
            }
            var hitId = slots[base + HIT] < 0 ? null : JsonStrings.string(b, slots[base + HIT], slots[base + HIT + 1]);
            if ((hitId == null || hitId.isEmpty()) && !MturkDecoder.PING.equals(type)) {
                return null;
            }
            var payload = count == 1 ? b : Arrays.copyOfRange(b, slots[base + BOUNDS], slots[base + BOUNDS + 1]);
            events[i] = new Event("mturk:" + docId + "#" + i, type, time, hitId, payload, new SpanMap(SHAPE, b, slots, base));
        }
        return Decoded.of(List.of(events));
    }

    private static int events(Read r, byte[] b, int p) {
        return EntrySlots.entries(r, b, p, 180, ENTRY);
    }

    /** Entry {@code index} of Events[] at {@code p}; the position after it, or BAIL. */
    private static int entry(Read r, byte[] b, int index, int p) {
        if (index >= EntrySlots.MAX_ENTRIES) {
            return Scan.BAIL; // too many: the Jackson path counts them and says so
        }
        int base = r.begin(index, p, TYPE);
        int end = Members.object(r.scan, b, p, 3, EVENT, EVENT_FIELD, r);
        var slots = r.slots;
        // EventType and EventTimestamp are required and non-empty
        if (end < 0 || slots[base + TYPE] < 0 || slots[base + TYPE] == slots[base + TYPE + 1]
                || slots[base + TIMESTAMP] < 0 || slots[base + TIMESTAMP] == slots[base + TIMESTAMP + 1]) {
            return Scan.BAIL;
        }
        return r.end(index, end);
    }
}
