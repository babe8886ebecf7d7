package dev.ferry.codecs;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.model.Delivery;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;

/**
 * {@link SnsDecoder}'s fast path: a {@code Notification} envelope read from its bytes with
 * {@link Members}, its message unescaped straight into UTF-8 for the next decoder. Null for
 * anything it is not sure of (confirmations included); the Jackson path then decides.
 */
final class SnsFastPath {

    /** The envelope's attributes, in the Jackson path's order. */
    static final SpanMap.Shape SHAPE = SpanMap.Shape.of("sns.TopicArn", SpanMap.STRING,
            "sns.MessageId", SpanMap.STRING, "sns.Subject", SpanMap.STRING, "sns.Timestamp", SpanMap.STRING);

    private static final byte[] NOTIFICATION = Scan.ascii("Notification");

    private final Scan scan;
    private final SnsDecoder decoder;

    SnsFastPath(Scan scan, SnsDecoder decoder) {
        this.scan = scan;
        this.decoder = decoder;
    }

    /** What one envelope is read into: its fields' spans (2 ints each, in SnsDecoder.ENVELOPE's order) and its attributes. */
    /** Up to this many attribute names, a repeat is looked for by comparing them in turn. */
    private static final int SEEN_BY_SCAN = 16;

    private static final class Read {
        final Scan scan;
        final int[] f = new int[2 * SnsDecoder.MESSAGE_ATTRIBUTES];
        final int[] value = new int[2];
        String[] attributes;
        int count;
        /** The names read so far, once there are {@link #SEEN_BY_SCAN} of them. */
        HashSet<String> seen;

        Read(Scan scan) {
            this.scan = scan;
            Arrays.fill(f, -1);
        }
    }

    private static final Members.Reader<Read> ENVELOPE_FIELD = (r, b, field, p) -> field == SnsDecoder.MESSAGE_ATTRIBUTES
            ? Members.map(r.scan, b, p, SnsFastPath::attribute, r) : r.scan.stringInto(b, p, r.f, 2 * field);

    private static final Members.Reader<Read> VALUE_FIELD = (r, b, field, p) -> r.scan.stringInto(b, p, r.value, 0);

    Decoded decode(byte[] b, Delivery delivery) {
        var r = new Read(scan);
        int p = Members.object(scan, b, Scan.ws(b, 0), 1, SnsDecoder.ENVELOPE, ENVELOPE_FIELD, r);
        if (p < 0 || !Scan.atEnd(b, p)) {
            return null;
        }
        var f = r.f;
        if (f[2 * SnsDecoder.TYPE] < 0 || f[2 * SnsDecoder.TOPIC_ARN] < 0) {
            return decoder.decodeNext(delivery); // raw message delivery: no envelope
        }
        if (!Scan.is(b, f[2 * SnsDecoder.TYPE], f[2 * SnsDecoder.TYPE + 1], NOTIFICATION) || f[2 * SnsDecoder.MESSAGE] < 0) {
            return null; // confirmations and problems: the Jackson path
        }
        var message = JsonStrings.utf8(b, f[2 * SnsDecoder.MESSAGE], f[2 * SnsDecoder.MESSAGE + 1]);
        if (message == null) {
            return null;
        }
        var spans = new int[] {f[2 * SnsDecoder.TOPIC_ARN], f[2 * SnsDecoder.TOPIC_ARN + 1],
            f[2 * SnsDecoder.MESSAGE_ID], f[2 * SnsDecoder.MESSAGE_ID + 1], f[2 * SnsDecoder.SUBJECT],
            f[2 * SnsDecoder.SUBJECT + 1], f[2 * SnsDecoder.TIMESTAMP], f[2 * SnsDecoder.TIMESTAMP + 1]};
        Map<String, String> messageAttributes = Map.of();
        if (r.count > 0) {
            var builder = new FlatMap.Builder(r.count);
            for (int i = 0; i < r.count; i++) {
                builder.put(r.attributes[2 * i], r.attributes[2 * i + 1]);
            }
            messageAttributes = builder.build();
        }
        var envelope = MergedMap.of(new SpanMap(SHAPE, b, spans, 0), messageAttributes);
        var topicArn = JsonStrings.string(b, f[2 * SnsDecoder.TOPIC_ARN], f[2 * SnsDecoder.TOPIC_ARN + 1]);
        return decoder.inner(delivery, message, topicArn, envelope);
    }

    /** One of MessageAttributes, named {@code [ns, ne)}: an object whose Value (a string or null) is kept. */
    private static int attribute(Read r, byte[] b, int ns, int ne, int p) {
        if (r.count >= SnsDecoder.MAX_MESSAGE_ATTRIBUTES) {
            return Scan.BAIL; // too many: the Jackson path says so
        }
        var name = JsonStrings.string(b, ns, ne);
        if (r.attributes == null) {
            r.attributes = new String[8];
        }
        if (r.count < SEEN_BY_SCAN) {
            for (int i = 0; i < r.count; i++) {
                if (r.attributes[2 * i].equals(name)) {
                    return Scan.BAIL; // a name twice: which one counts, the Jackson path decides
                }
            }
        } else {
            if (r.seen == null) { // past a few names a set: tens of thousands compared pair by pair would take seconds
                r.seen = new HashSet<>();
                for (int i = 0; i < r.count; i++) {
                    r.seen.add(r.attributes[2 * i]);
                }
            }
            if (!r.seen.add(name)) {
                return Scan.BAIL;
            }
        }
        r.value[0] = -1;
        int end = Members.object(r.scan, b, p, 3, SnsDecoder.ATTRIBUTE, VALUE_FIELD, r);
        if (end < 0) {
            return Scan.BAIL;
        }
        if (2 * r.count + 2 > r.attributes.length) {
            r.attributes = Arrays.copyOf(r.attributes, r.attributes.length * 2);
        }
        r.attributes[2 * r.count] = name;
        r.attributes[2 * r.count + 1] = r.value[0] < 0 ? null : JsonStrings.string(b, r.value[0], r.value[1]);
        r.count++;
        return end;
    }
}
