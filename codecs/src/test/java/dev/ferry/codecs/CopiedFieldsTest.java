package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fields of a document or an envelope that go with each of its events: bounded, so that a message under 1 MiB
 * cannot make gigabytes of attributes (written by a file sink per event, read by every attribute route).
 */
class CopiedFieldsTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();

    private static Decoded decode(Decoder decoder, String body) {
        return decoder.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
    }

    private static String mturk(String customer, int events) {
        var sb = new StringBuilder("{\"EventDocId\":\"d-1\",\"EventDocVersion\":\"2014-08-15\",\"CustomerId\":\"")
                .append(customer).append("\",\"Events\":[");
        for (int i = 0; i < events; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"EventType\":\"Ping\",\"EventTimestamp\":\"2026-12-03T08:00:00Z\"}");
        }
        return sb.append("]}").toString();
    }

    @Test
    void anMturkCustomerIdOfAQuarterMegabyte_isMalformed_onBothPaths_aRealOneIsNot() {
        for (var decoder : List.<Decoder>of(new MturkDecoder(LIMITS), new MturkDecoder(LIMITS).jacksonOnly())) {
            assertThat(decode(decoder, mturk("x".repeat(260_000), 3))).isInstanceOfSatisfying(Decoded.Malformed.class,
                    m -> assertThat(m.reason()).contains("CustomerId: 260000 characters"));
            assertThat(decode(decoder, mturk("A1B2C3D4E5F6G7", 3))).isInstanceOfSatisfying(Decoded.Events.class,
                    e -> assertThat(e.events()).hasSize(3)
                            .allSatisfy(ev -> assertThat(ev.attributes()).containsEntry("CustomerId", "A1B2C3D4E5F6G7")));
        }
    }

    private static String s3(int records) {
        var inner = new StringBuilder("{\"Records\":[");
        for (int i = 0; i < records; i++) {
            inner.append(i == 0 ? "" : ",").append("{\"eventName\":\"ObjectCreated:Put\",\"eventTime\":\"2026-12-03T08:00:0")
                    .append(i % 10).append("Z\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k").append(i)
                    .append("\",\"sequencer\":\"0").append(i).append("\"}}}");
        }
        return inner.append("]}").toString();
    }

    private static String sns(String subject, int records) {
        var inner = s3(records);
        return "{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:eu-west-1:1:t\",\"Subject\":\""
                + subject + "\",\"Message\":\"" + inner.replace("\"", "\\\"")
                + "\",\"Timestamp\":\"2026-12-03T08:00:00.000Z\"}";
    }

    @Test
    void anSnsEnvelopeCopiedOntoManyEvents_pastAMebibyteInAll_isMalformed_onBothPaths() {
        for (var decoder : List.<Decoder>of(new SnsDecoder(LIMITS, new S3Decoder(LIMITS)),
                new SnsDecoder(LIMITS, new S3Decoder(LIMITS)).jacksonOnly())) {
            assertThat(decode(decoder, sns("s".repeat(200_000), 10))).isInstanceOfSatisfying(Decoded.Malformed.class,
                    m -> assertThat(m.reason()).contains("go with each of the message's 10 events"));
            assertThat(decode(decoder, sns("s".repeat(200_000), 1))).as("one event may carry a large envelope")
                    .isInstanceOf(Decoded.Events.class);
            assertThat(decode(decoder, sns("Amazon S3 Notification", 10))).isInstanceOfSatisfying(Decoded.Events.class,
                    e -> assertThat(e.events()).hasSize(10));
        }
    }

    @Test // AWS sends one record per S3 message, a few events per MTurk document: 15,000 tiny events of a megabyte were
    // as many keys (each with the EventDocId) and ledger writes for one message, its group held all the while
    void moreEntriesThanOneMessageMayHold_isMalformed_namingTheCount_onBothPaths() {
        int cap = EntrySlots.MAX_ENTRIES;
        assertThat(cap).isEqualTo(1_000);
        assertThat((long) MturkDecoder.MAX_DOC_ID * cap).as("the keys' EventDocIds stay within what SNS may copy")
                .isLessThanOrEqualTo(SnsDecoder.MAX_COPIED);
        var mturk = new MturkDecoder(LIMITS);
        var s3 = new S3Decoder(LIMITS);
        var tooManyEvents = Samples.delivery(mturk("C", cap + 1).getBytes(StandardCharsets.UTF_8));
        var tooManyRecords = Samples.delivery(s3(cap + 1).getBytes(StandardCharsets.UTF_8));
        assertThat(mturk.fast(tooManyEvents.body(), tooManyEvents)).as("the fast path leaves it to Jackson").isNull();
        assertThat(s3.fast(tooManyRecords.body(), tooManyRecords)).as("the fast path leaves it to Jackson").isNull();
        for (var decoder : List.<Decoder>of(mturk, new MturkDecoder(LIMITS).jacksonOnly())) {
            assertThat(decoder.decode(tooManyEvents)).isInstanceOfSatisfying(Decoded.Malformed.class,
                    m -> assertThat(m.reason()).contains("Events: 1001 events").contains("more than 1000"));
            assertThat(decode(decoder, mturk("C", cap))).isInstanceOfSatisfying(Decoded.Events.class,
                    e -> assertThat(e.events()).hasSize(cap));
        }
        for (var decoder : List.<Decoder>of(s3, new S3Decoder(LIMITS).jacksonOnly())) {
            assertThat(decoder.decode(tooManyRecords)).isInstanceOfSatisfying(Decoded.Malformed.class,
                    m -> assertThat(m.reason()).contains("Records: 1001 records").contains("more than 1000"));
            assertThat(decode(decoder, s3(cap))).isInstanceOfSatisfying(Decoded.Events.class,
                    e -> assertThat(e.events()).hasSize(cap));
        }
    }

    @Test // a review: a body far past the cap was read whole first (every record kept as an object), then refused — a
          // Kafka record of 100 MiB of small records held about four times its size, two at once enough to end a process
    void entriesPastTheCap_areCountedNotKept() {
        var limits = new JsonLimits(16 << 20, 64, 256 * 1024, 64);
        var body = s3(50_000).getBytes(StandardCharsets.UTF_8);
        var decoder = new S3Decoder(limits).jacksonOnly();
        decoder.decode(Samples.delivery(s3(2).getBytes(StandardCharsets.UTF_8))); // its classes loaded before the count
        var delivery = Samples.delivery(body);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

        long before = threads.getCurrentThreadAllocatedBytes();
        var decoded = decoder.decode(delivery);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(decoded).isInstanceOfSatisfying(Decoded.Malformed.class,
                m -> assertThat(m.reason()).contains("Records: 50000 records").contains("more than 1000"));
        assertThat(allocated).as("bytes allocated to refuse a body of %d bytes", body.length).isLessThan(body.length);
    }
}
