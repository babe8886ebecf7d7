package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CodecsTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();

    private static List<Event> events(Decoder decoder, String sample) {
        var decoded = decoder.decode(Samples.sample(sample));
        assertThat(decoded).as(sample + " decodes").isInstanceOf(Decoded.Events.class);
        return ((Decoded.Events) decoded).events();
    }

    private static String malformed(Decoder decoder, String body) {
        var decoded = decoder.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
        assertThat(decoded).isInstanceOf(Decoded.Malformed.class);
        return ((Decoded.Malformed) decoded).reason();
    }

    @Test
    void s3_referenceSample_fromTheArchiveJob() {
        var events = events(Codecs.s3(LIMITS), "s3-reference.json");
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo("s3:Object");
            assertThat(e.attributes()).containsEntry("objectKey",
                            "1234567/abcd1234-1234-abcd-5678-1234abcd1234/20200609125740-1234567890abcdef1234567890abcdef")
                    .containsEntry("size", "11805").containsEntry("eTag", "9876543210abcdef9876543210abcdef")
                    .containsEntry("sequencer", "00E5FD87444DFD5752").doesNotContainKey("bucket");
            assertThat(e.key()).isEqualTo("s3:1234567/abcd1234-1234-abcd-5678-1234abcd1234/20200609125740-1234567890abcdef1234567890abcdef#00E5FD87444DFD5752");
            assertThat(e.payload()).isEqualTo(Samples.bytes("samples/s3-reference.json"));
        });
    }

    @Test
    void s3_fullRecord_urlDecodesTheKey_andGroupsByObject() {
        var e = events(Codecs.s3(LIMITS), "s3-one.json").getFirst();
        assertThat(e.type()).isEqualTo("ObjectCreated:Put");
        assertThat(e.attributes()).containsEntry("bucket", "example-archive")
                .containsEntry("objectKey", "photos/summer trip/img 0.jpg")
                .containsEntry("versionId", "096fKKXTRTtl3on89fVO.nfljtsv6qko")
                .containsEntry("region", "us-east-1").containsEntry("size", "1024");
        assertThat(e.groupKey()).isEqualTo("example-archive/photos/summer trip/img 0.jpg");
        assertThat(e.key()).isEqualTo("s3:example-archive/photos/summer trip/img 0.jpg#0055AED6DCD9028000");
        assertThat(e.time()).isEqualTo(Instant.parse("2026-11-22T10:00:00Z"));
    }

    @Test
    void s3_tenRecords_areTenEvents_eachWithItsOwnRecordAsPayload() {
        var events = events(Codecs.s3(LIMITS), "s3-ten.json");
        assertThat(events).hasSize(10);
        assertThat(events).extracting(Event::key).doesNotHaveDuplicates();
        for (int i = 0; i < 10; i++) {
            var payload = events.get(i).payloadAsString();
            assertThat(payload).startsWith("{").endsWith("}").contains("img%20" + i + ".jpg").doesNotContain("img%20" + (i + 1) + ".jpg");
        }
    }

    @Test
    void s3_testEvent_isAnEventOfItsOwnType() {
        var e = events(Codecs.s3(LIMITS), "s3-test-event.json").getFirst();
        assertThat(e.type()).isEqualTo("s3:TestEvent");
        assertThat(e.key()).isEqualTo("s3:TestEvent:5582815E1AEA5ADF");
        assertThat(e.attributes()).containsEntry("bucket", "example-archive");
    }

    @Test
    void mturk_eventsKeyedByEventDocId_andGroupedByHit() {
        var events = events(Codecs.mturk(LIMITS), "mturk-ten.json");
        assertThat(events).hasSize(10);
        assertThat(events.getFirst().key()).isEqualTo("mturk:0f2c2f76-1c8a-4a90-9b8b-2a0d9b3f6a10#0");
        assertThat(events.get(9).key()).isEqualTo("mturk:0f2c2f76-1c8a-4a90-9b8b-2a0d9b3f6a10#9");
        assertThat(events).extracting(Event::type).startsWith("AssignmentSubmitted", "AssignmentAccepted", "HITReviewable");
        assertThat(events.getFirst().groupKey()).isEqualTo("3HYV4299H0WQ0000EXAMPLE");
        assertThat(events.getFirst().attributes()).containsEntry("AssignmentId", "3TEM0PF1Q5W8Q00000EXAMPLE")
                .containsEntry("CustomerId", "A1CUSTOMEREXAMPLE").containsEntry("EventDocVersion", "2014-08-15");
        assertThat(events.get(2).attributes()).doesNotContainKey("AssignmentId");
        assertThat(events.getFirst().time()).isEqualTo(Instant.parse("2026-11-22T10:00:00Z"));
    }

    @Test
    void mturk_sameDocumentUnderTwoMessageIds_hasTheSameKeys() {
        var body = Samples.bytes("samples/mturk-one.json");
        var a = Codecs.mturk(LIMITS).decode(Samples.delivery(body));
        var other = Samples.delivery(body);
        var b = Codecs.mturk(LIMITS).decode(new dev.ferry.domain.model.Delivery("msg-2", body, other.attributes(), 1,
                other.sentAt(), null, null, "q", null));
        assertThat(((Decoded.Events) a).events().getFirst().key()).isEqualTo(((Decoded.Events) b).events().getFirst().key());
    }

    @Test
    void mturk_ping_decodesWithoutHitFields() {
        var e = events(Codecs.mturk(LIMITS), "mturk-ping.json").getFirst();
        assertThat(e.type()).isEqualTo("Ping");
        assertThat(e.groupKey()).isNull();
    }

    @Test
    void sns_unwrapsTheEnvelope_andDecodesTheInnerS3Notification() {
        var e = events(Codecs.named("sns", LIMITS), "sns-s3.json").getFirst();
        assertThat(e.type()).isEqualTo("ObjectCreated:Put");
        assertThat(e.attributes()).containsEntry("objectKey", "photos/summer trip/img 0.jpg");
        var s3Only = events(Codecs.named("sns+s3", LIMITS), "sns-s3.json").getFirst();
        assertThat(s3Only.key()).isEqualTo(e.key());
    }

    @Test
    void sns_envelopeAttributes_reachTheInnerEvents_underTheirOwn() {
        for (var format : new String[] {"sns", "sns+s3", "auto"}) {
            var e = events(Codecs.named(format, LIMITS), "sns-s3.json").getFirst();
            assertThat(e.attributes()).as(format)
                    .containsEntry("sns.TopicArn", "arn:aws:sns:us-east-1:123456789012:archive-events")
                    .containsEntry("sns.MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324")
                    .containsEntry("sns.Subject", "Amazon S3 Notification")
                    .containsEntry("sns.Timestamp", "2026-11-22T10:00:01.000Z")
                    .containsEntry("env", "prod")
                    .containsEntry("bucket", "example-archive");
        }
        // a message attribute named like one of the event's own keeps the event's value
        var body = new String(Samples.bytes("samples/sns-s3.json"), StandardCharsets.UTF_8)
                .replace("\"env\": {", "\"bucket\": {\"Type\": \"String\", \"Value\": \"not-the-bucket\"}, \"env\": {");
        var decoded = (Decoded.Events) Codecs.named("sns", LIMITS).decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
        assertThat(decoded.events().getFirst().attributes()).containsEntry("bucket", "example-archive").containsEntry("env", "prod");
        // a Value twice in one attribute: the last one counts, as it always has (not a malformed message)
        var twice = new String(Samples.bytes("samples/sns-s3.json"), StandardCharsets.UTF_8)
                .replace("\"Value\": \"prod\"}", "\"Value\": \"dev\", \"Value\": \"prod\"}");
        assertThat(twice).contains("\"Value\": \"dev\", \"Value\": \"prod\"");
        var last = (Decoded.Events) Codecs.named("sns", LIMITS).decode(Samples.delivery(twice.getBytes(StandardCharsets.UTF_8)));
        assertThat(last.events().getFirst().attributes()).containsEntry("env", "prod");
    }

    @Test
    void sns_envelopeLikeBodyWithoutTopic_goesToTheFallback_notRoundInCircles() {
        var body = "{\"Type\": \"Notification\", \"Message\": \"hello\"}".getBytes(StandardCharsets.UTF_8);
        var decoded = Codecs.named("auto", LIMITS).decode(Samples.delivery(body));
        assertThat(decoded).isInstanceOf(Decoded.Events.class);
        var e = ((Decoded.Events) decoded).events().getFirst();
        assertThat(e.type()).isEqualTo("raw");
        assertThat(e.payload()).isEqualTo(body);
    }

    @Test
    void sns_rawDelivery_goesStraightToTheInnerDecoder() {
        var e = events(Codecs.sns(LIMITS, Codecs.s3(LIMITS)), "s3-one.json").getFirst();
        assertThat(e.type()).isEqualTo("ObjectCreated:Put");
    }

    @Test
    void sns_subscriptionConfirmation_isRecognised_notPayload() {
        var e = events(Codecs.named("sns+s3", LIMITS), "sns-subscription.json").getFirst();
        assertThat(e.type()).isEqualTo("sns:SubscriptionConfirmation");
        assertThat(e.attributes().get("SubscribeURL")).startsWith("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription");
    }

    @Test
    void json_readsPointers_andKeepsTheDocumentAsPayload() {
        var decoder = Codecs.json(LIMITS, "/order/id", "/kind", "/order/customer", "/at", "order");
        var body = "{\"kind\":\"OrderPlaced\",\"order\":{\"id\":\"o-17\",\"customer\":\"c-9\",\"lines\":[{\"id\":\"x\"}]},\"at\":\"2026-11-22T10:00:00Z\"}";
        var decoded = (Decoded.Events) decoder.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
        var e = decoded.events().getFirst();
        assertThat(e.key()).isEqualTo("o-17");
        assertThat(e.type()).isEqualTo("OrderPlaced");
        assertThat(e.groupKey()).isEqualTo("c-9");
        assertThat(e.time()).isEqualTo(Instant.parse("2026-11-22T10:00:00Z"));
        assertThat(e.payloadAsString()).isEqualTo(body);
        var epoch = (Decoded.Events) decoder.decode(Samples.delivery("{\"order\":{\"id\":7},\"at\":1700000000000}".getBytes(StandardCharsets.UTF_8)));
        assertThat(epoch.events().getFirst().type()).isEqualTo("order");
        assertThat(epoch.events().getFirst().key()).isEqualTo("7");
        assertThat(epoch.events().getFirst().time()).isEqualTo(Instant.ofEpochMilli(1700000000000L));
    }

    @Test // a boolean or a fraction as an id would be one key for every such document: the second dropped as a duplicate
    void json_anIdThatIsNotAStringOrAWholeNumber_isMalformed_withWhatWasFound() {
        var decoder = Codecs.json(LIMITS, "/id", null, null, null, null);
        for (var body : List.of("{\"id\":true,\"n\":1}", "{\"id\":1.5}", "{\"id\":{\"x\":1}}", "{\"id\":[1]}")) {
            var decoded = decoder.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
            assertThat(decoded).as(body).isInstanceOfSatisfying(Decoded.Malformed.class, m -> assertThat(m.reason())
                    .contains("/id").contains("expected a string or a whole number"));
        }
        var whole = (Decoded.Events) decoder.decode(Samples.delivery("{\"id\":-42}".getBytes(StandardCharsets.UTF_8)));
        assertThat(whole.events().getFirst().key()).isEqualTo("-42");
        // -0 and 0 are one number: two keys, the same event ran twice
        var minusZero = (Decoded.Events) decoder.decode(Samples.delivery("{\"id\":-0}".getBytes(StandardCharsets.UTF_8)));
        var zero = (Decoded.Events) decoder.decode(Samples.delivery("{\"id\":0}".getBytes(StandardCharsets.UTF_8)));
        assertThat(minusZero.events().getFirst().key()).isEqualTo(zero.events().getFirst().key());
    }

    @Test
    void json_pointerWithEscapes_andArrayIndex() {
        var decoder = Codecs.json(LIMITS, "/a~1b/0/id", null, null, null, null);
        var decoded = (Decoded.Events) decoder.decode(Samples.delivery("{\"a/b\":[{\"id\":\"first\"},{\"id\":\"second\"}]}".getBytes(StandardCharsets.UTF_8)));
        assertThat(decoded.events().getFirst().key()).isEqualTo("first");
        assertThatThrownBy(() -> Codecs.json(LIMITS, "id", null, null, null, null)).hasMessageContaining("must start with '/'");
    }

    @Test // the document id is in every event's key: a huge one times thousands of events would exhaust the heap
    void mturk_anEventDocIdFarLongerThanMturksOwn_isMalformed_beforeAnyKeyIsMade() {
        var ping = "{\"EventType\":\"Ping\",\"EventTimestamp\":\"2026-01-01T00:00:00Z\"}";
        var body = "{\"EventDocVersion\":\"2014-08-15\",\"EventDocId\":\"" + "d".repeat(100_000) + "\",\"CustomerId\":\"C\","
                + "\"Events\":[" + String.join(",", java.util.Collections.nCopies(2_000, ping)) + "]}";
        var decoded = Codecs.named("mturk", LIMITS).decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
        assertThat(decoded).isInstanceOfSatisfying(Decoded.Malformed.class, m -> assertThat(m.reason())
                .startsWith("EventDocId: 100000 characters, more than 1024"));
    }

    @Test // two different messages about one object that identify no event must not share a key (the second dropped)
    void s3_recordsThatIdentifyNoEvent_doNotShareKeysWithOtherMessages() {
        var s3 = Codecs.named("s3", LIMITS);
        java.util.function.Function<String, String> key = body -> ((Decoded.Events) s3.decode(
                Samples.delivery(body.getBytes(StandardCharsets.UTF_8)))).events().getFirst().key();
        var one = "{\"Records\":[{\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"size\":1}}}]}";
        var two = "{\"Records\":[{\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"size\":2}}}]}";
        assertThat(key.apply(two)).isNotEqualTo(key.apply(one));
        assertThat(key.apply(one)).as("the same message received again").isEqualTo(key.apply(one));
    }

    @Test // a review: a type or time pointer landing on an object or array was skipped, the event of the default type
    void json_aTypeOrTimeThatIsAnObjectOrArray_isMalformed_notTheDefaultTypeUnsaid() {
        var decoder = Codecs.json(LIMITS, "/id", "/type", null, "/at", "json");
        for (var body : List.of("{\"id\":\"o-1\",\"type\":{\"name\":\"order.created\"}}", "{\"id\":\"o-1\",\"type\":[\"a\"]}",
                "{\"id\":\"o-1\",\"type\":\"order\",\"at\":{\"s\":1}}", "{\"id\":\"o-1\",\"at\":[1]}")) {
            var decoded = decoder.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
            assertThat(decoded).as(body).isInstanceOf(Decoded.Malformed.class);
            assertThat(((Decoded.Malformed) decoded).reason()).as(body).containsAnyOf("/type", "/at");
        }
        var fine = decoder.decode(Samples.delivery("{\"id\":\"o-1\",\"type\":\"order\",\"meta\":{\"type\":{}}}"
                .getBytes(StandardCharsets.UTF_8)));
        assertThat(fine).as("an object elsewhere, of the same name").isNotInstanceOf(Decoded.Malformed.class);
    }

    @Test // decoded leniently, %FF, %FE and a real %EF%BF%BD were one object key, and %+1 was %01
    void s3_objectKeys_areUrlDecodedStrictly_soDifferentKeysNeverBecomeOne() throws Exception {
        assertThat(S3ObjectKeys.decode("a+b%20c%C3%A9", 0)).isEqualTo("a b cé");
        assertThat(S3ObjectKeys.decode("photo%EF%BF%BD.jpg", 0)).isEqualTo("photo\uFFFD.jpg");
        for (var bad : List.of("photo%FF.jpg", "photo%FE.jpg", "a%+1", "a%1", "a%", "%C3")) {
            assertThatThrownBy(() -> S3ObjectKeys.decode(bad, 0)).as(bad).isInstanceOf(JsonSupport.Failure.class)
                    .hasMessageContaining("not a URL-encoded key");
        }
        var body = "{\"Records\":[{\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"photo%FF.jpg\",\"sequencer\":\"01\"}}}]}";
        assertThat(Codecs.named("s3", LIMITS).decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8))))
                .isInstanceOf(Decoded.Malformed.class);
    }

    @Test // its text was read to carry it past both paths: that threw, the body was read again, and it was malformed
    void sns_anInnerDecoderThatThrowsAnExceptionWhoseTextThrows_isThrownOn_notDeadLetteredAsMalformed_andAskedOnce() {
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        Decoder failing = d -> {
            calls.incrementAndGet();
            throw new Unreadable();
        };
        var body = ("{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
                + "\"Message\":\"hello\",\"Timestamp\":\"2026-11-22T10:00:00.000Z\"}").getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Codecs.sns(LIMITS, failing).decode(Samples.delivery(body))).isInstanceOf(Unreadable.class);
        assertThat(calls.get()).isEqualTo(1);
    }

    @Test // a review: a checked exception from the inner decoder (Kotlin, Scala) was cast, a ClassCastException hiding it
    void sns_anInnerDecoderThatThrowsACheckedException_isThrownOn_withItAsTheCause_onBothPaths() {
        var cause = new java.io.IOException("schema registry unreachable");
        Decoder failing = d -> CodecsTest.<RuntimeException>sneaky(cause);
        var body = ("{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
                + "\"Message\":\"hello\",\"Timestamp\":\"2026-11-22T10:00:00.000Z\"}").getBytes(StandardCharsets.UTF_8);
        for (Decoder sns : List.<Decoder>of(new SnsDecoder(LIMITS, failing), new SnsDecoder(LIMITS, failing).jacksonOnly())) {
            assertThatThrownBy(() -> sns.decode(Samples.delivery(body))).isNotInstanceOf(ClassCastException.class)
                    .hasCause(cause);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> Decoded sneaky(Throwable thrown) throws T {
        throw (T) thrown;
    }

    @Test // a review: what read the inner decoder's answer threw; the body was read again, the decoder asked twice, malformed
    void sns_anInnerDecodersAnswerThatThrowsWhenRead_isThrownOn_andAskedOnce() {
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        var broken = new java.util.AbstractMap<String, String>() {
            @Override
            public java.util.Set<Map.Entry<String, String>> entrySet() {
                throw new IllegalStateException("a map of the plugin's own, broken");
            }
        };
        Decoder inner = d -> {
            calls.incrementAndGet();
            return Decoded.of(List.of(new Event("e-1", "T", null, null, d.body(), broken)));
        };
        var body = ("{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
                + "\"Message\":\"hello\",\"Timestamp\":\"2026-11-22T10:00:00.000Z\"}").getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> Codecs.sns(LIMITS, inner).decode(Samples.delivery(body)))
                .isInstanceOf(IllegalStateException.class).hasMessage("a map of the plugin's own, broken");
        assertThat(calls.get()).isEqualTo(1);
    }

    /** A plugin's exception whose text cannot be read: reading it throws another such. */
    private static final class Unreadable extends RuntimeException {
        @Override
        public String getMessage() {
            throw new Unreadable();
        }
    }

    @Test // the inner decoder's exception is a failure that may pass, not the body's fault: thrown on, asked once
    void sns_anInnerDecoderThatThrows_isThrownOn_notDeadLetteredAsMalformed_andAskedOnce() {
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        Decoder failing = d -> {
            calls.incrementAndGet();
            throw new IllegalStateException("schema registry unreachable");
        };
        var body = ("{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
                + "\"Message\":\"hello\",\"Timestamp\":\"2026-11-22T10:00:00.000Z\"}").getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Codecs.sns(LIMITS, failing).decode(Samples.delivery(body)))
                .isInstanceOf(IllegalStateException.class).hasMessage("schema registry unreachable");
        assertThat(calls.get()).isEqualTo(1);

        calls.set(0); // raw message delivery (no envelope) goes to the inner decoder the same way
        var raw = "{\"order\":7}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Codecs.sns(LIMITS, failing).decode(Samples.delivery(raw)))
                .isInstanceOf(IllegalStateException.class).hasMessage("schema registry unreachable");
        assertThat(calls.get()).isEqualTo(1);
        Decoder overflowing = d -> {
            throw new StackOverflowError("the inner decoder's own recursion");
        };
        assertThatThrownBy(() -> Codecs.sns(LIMITS, overflowing).decode(Samples.delivery(raw)))
                .isInstanceOf(StackOverflowError.class);
    }

    @Test // SNS delivers at least once: one notification in two SQS messages is one event, whatever the inner format
    void sns_aNotificationDeliveredTwice_isOneEventKey_evenWhenItsMessageIsRaw() {
        var body = ("{\"Type\":\"Notification\",\"MessageId\":\"m-1\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
                + "\"Message\":\"hello\",\"Timestamp\":\"2026-11-22T10:00:00.000Z\"}").getBytes(StandardCharsets.UTF_8);
        var decoder = Codecs.named("sns", LIMITS);
        var first = (Decoded.Events) decoder.decode(new Delivery("sqs-1", body, Map.of(), 1, Instant.EPOCH, null, null, "q", null));
        var second = (Decoded.Events) decoder.decode(new Delivery("sqs-2", body, Map.of(), 1, Instant.EPOCH, null, null, "q", null));
        assertThat(first.events().getFirst().type()).isEqualTo("raw");
        assertThat(second.events().getFirst().key()).isEqualTo(first.events().getFirst().key());
    }

    @Test // an empty Idempotency-Key (or deduplication id) is no id: the message's own id keys it
    void raw_anEmptyDeduplicationId_fallsBackToTheMessageId() {
        var d = new Delivery("msg-9", new byte[] {1}, Map.of(), 1, Instant.EPOCH, null, "", "q", null);
        var e = ((Decoded.Events) Codecs.raw("bytes", LIMITS).decode(d)).events().getFirst();
        assertThat(e.key()).isEqualTo("msg-9");
    }

    @Test
    void raw_passesTheBodyThrough() {
        var d = Samples.delivery(new byte[] {1, 2, (byte) 0xFF});
        var e = ((Decoded.Events) Codecs.raw("bytes", LIMITS).decode(d)).events().getFirst();
        assertThat(e.payload()).containsExactly(1, 2, 0xFF);
        assertThat(e.key()).isEqualTo("msg-1");
        assertThat(e.type()).isEqualTo("bytes");
        assertThat(malformedRaw()).contains("larger than the limit of 2 bytes");
    }

    @Test
    void raw_withoutArguments_isForOrdinaryBodies() {
        var d = Samples.delivery("any body at all, not JSON".getBytes(StandardCharsets.UTF_8));
        var e = ((Decoded.Events) Codecs.raw().decode(d)).events().getFirst();
        assertThat(e.type()).isEqualTo("raw");
        assertThat(new String(e.payload(), StandardCharsets.UTF_8)).isEqualTo("any body at all, not JSON");
        assertThat(((Decoded.Events) Codecs.raw("order").decode(d)).events().getFirst().type()).isEqualTo("order");
        var big = Samples.delivery(new byte[JsonLimits.defaults().maxBodyBytes() + 1]);
        assertThat(Codecs.raw().decode(big)).isInstanceOf(Decoded.Malformed.class);
    }

    @Test // #15: content-based deduplication ids are SQS's 5-minute window, not an identity
    void raw_keysContentBasedDeduplication_byMessageId_andAnExplicitDeduplicationId_asGiven() throws Exception {
        var body = "same body, sent again an hour later".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
        var base = Samples.delivery(body);
        var sqsAttributes = new java.util.HashMap<>(base.attributes());
        sqsAttributes.put("MessageDeduplicationId", hash); // as an SQS source hands it out: SQS set the id
        var contentBased = new dev.ferry.domain.model.Delivery("msg-7", body, sqsAttributes, 1, base.sentAt(),
                "g", hash, base.source(), null);
        var explicit = new dev.ferry.domain.model.Delivery("msg-8", body, base.attributes(), 1, base.sentAt(),
                "g", "trade-42", base.source(), null);
        assertThat(((Decoded.Events) Codecs.raw("t", LIMITS).decode(contentBased)).events().getFirst().key()).isEqualTo("msg-7");
        assertThat(((Decoded.Events) Codecs.raw("t", LIMITS).decode(explicit)).events().getFirst().key()).isEqualTo("trade-42");
    }

    @Test // thirty-sixth round: an SNS envelope without a MessageId on a content-based FIFO queue was keyed by the
          // envelope's hash (the inner body no longer matched it): the same envelope an hour later dropped as a duplicate
    void sns_anEnvelopeWithoutAnId_onAContentBasedQueue_isKeyedByItsMessageId_notTheEnvelopesHash() throws Exception {
        var envelope = "{\"Type\":\"Notification\",\"TopicArn\":\"arn:aws:sns:us-east-1:123456789012:t\",\"Message\":\"pay 5\"}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(envelope));
        var base = Samples.delivery(envelope);
        var sqsAttributes = new java.util.HashMap<>(base.attributes());
        sqsAttributes.put("MessageDeduplicationId", hash);
        var contentBased = new dev.ferry.domain.model.Delivery("m-1", envelope, sqsAttributes, 1, base.sentAt(), "g", hash,
                base.source(), null);
        for (var format : new String[] {"sns", "auto"}) {
            var decoded = Codecs.named(format, LIMITS).decode(contentBased);
            assertThat(decoded).as(format).isInstanceOf(Decoded.Events.class);
            assertThat(((Decoded.Events) decoded).events().getFirst().key()).as(format).isEqualTo("m-1");
        }
    }

    @Test
    void raw_anHttpIdempotencyKeyThatIsTheBodysHash_isTheSendersIdentity_notSqsContentDeduplication() throws Exception {
        // a client deriving its Idempotency-Key from the content was keyed by the request's random delivery id, so its
        // resend after a timeout or a 429 ran a second time
        var body = "{\"order\":42}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
        var base = Samples.delivery(body);
        var httpAttributes = new java.util.HashMap<>(base.attributes());
        httpAttributes.put("Idempotency-Key", hash);
        var first = new dev.ferry.domain.model.Delivery("req-1#0", body, httpAttributes, 1, base.sentAt(), null, hash,
                base.source(), null);
        var resend = new dev.ferry.domain.model.Delivery("req-2#0", body, httpAttributes, 1, base.sentAt(), null, hash,
                base.source(), null);
        var raw = Codecs.raw("t", LIMITS);
        assertThat(((Decoded.Events) raw.decode(first)).events().getFirst().key()).isEqualTo(hash)
                .isEqualTo(((Decoded.Events) raw.decode(resend)).events().getFirst().key());
    }

    @Test // #15: without a sequencer, two events on one object are two events
    void s3_withoutASequencer_twoEventsOnOneObject_haveTwoKeys() {
        String put = "{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"eventTime\":\"2026-11-30T10:00:00.000Z\","
                + "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"eTag\":\"e1\"}}}]}";
        String tagged = put.replace("ObjectCreated:Put", "ObjectTagging:Put").replace("10:00:00", "10:05:00");
        var k1 = ((Decoded.Events) Codecs.s3(LIMITS).decode(Samples.delivery(put.getBytes()))).events().getFirst().key();
        var k2 = ((Decoded.Events) Codecs.s3(LIMITS).decode(Samples.delivery(tagged.getBytes()))).events().getFirst().key();
        assertThat(k1).isEqualTo("s3:b/k#e1@ObjectCreated:Put@2026-11-30T10:00:00.000Z");
        assertThat(k2).isNotEqualTo(k1);
    }

    private static String malformedRaw() {
        var decoded = Codecs.raw("bytes", LIMITS.withMaxBodyBytes(2)).decode(Samples.delivery(new byte[3]));
        return ((Decoded.Malformed) decoded).reason();
    }

    @Test
    void sniffing_picksTheFormatByContent() {
        var auto = Codecs.named("auto", LIMITS);
        assertThat(events(auto, "s3-one.json").getFirst().type()).isEqualTo("ObjectCreated:Put");
        assertThat(events(auto, "s3-test-event.json").getFirst().type()).isEqualTo("s3:TestEvent");
        assertThat(events(auto, "mturk-ten.json")).hasSize(10);
        assertThat(events(auto, "sns-s3.json").getFirst().type()).isEqualTo("ObjectCreated:Put");
        var plain = auto.decode(Samples.delivery("just text".getBytes(StandardCharsets.UTF_8)));
        assertThat(((Decoded.Events) plain).events().getFirst().type()).isEqualTo("raw");
        assertThat(malformed(auto, "{\"Records\":[]}")).isEqualTo("Records: empty, expected at least one record");
    }

    @Test
    void sniffing_aBodyThatOnlyNamesAFieldLikeAFormat_goesOnAsRaw_aDamagedNotificationStaysMalformed() {
        // the first known field name decided: an application's {"Event": ...}, a DynamoDB stream's Records, an
        // {"Events": [...]} of clicks were refused by the S3 or MTurk decoder and dead-lettered, from the default format
        var auto = Codecs.named("auto", LIMITS);
        for (var body : new String[] {"{\"Event\":\"user.signup\",\"id\":7}", "{\"Service\":\"billing\"}",
                "{\"Records\":[{\"eventName\":\"INSERT\",\"dynamodb\":{\"Keys\":{}}}]}",
                "{\"Events\":[{\"type\":\"click\"}]}"}) {
            var decoded = auto.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
            assertThat(decoded).as(body).isInstanceOfSatisfying(Decoded.Events.class,
                    e -> assertThat(e.events().getFirst().type()).isEqualTo("raw"));
        }
        assertThat(malformed(auto, "{\"Records\":[{\"s3\":{\"bucket\":{\"name\":\"b\"}}}]}")).contains("key");
        assertThat(malformed(auto, "{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\"}]}"))
                .as("an S3 record without its s3 object is S3's, damaged").isNotBlank();
        assertThat(malformed(auto, "{\"EventDocId\":\"d\",\"Events\":[{\"type\":\"click\"}]}")).isNotBlank();
    }

    @Test
    void aMegabyteOfS3RecordsWithoutIdentifiers_isHashedOnce_notOncePerRecord() {
        // each record without a sequencer, version, name or time hashed the whole body for its key: 35,000 records of a
        // megabyte were 36 GB of SHA-256 on the poller (now at most MAX_ENTRIES records, still a gigabyte: padded to it)
        var body = new StringBuilder("{\"Records\":[");
        int count = EntrySlots.MAX_ENTRIES;
        for (int i = 0; i < count; i++) {
            body.append(i == 0 ? "" : ",").append("{\"s3\":{\"object\":{\"key\":\"a\"}},\"pad\":\"" + "p".repeat(1_000) + "\"}");
        }
        var bytes = body.append("]}").toString().getBytes(StandardCharsets.UTF_8);
        var s3 = Codecs.named("s3", LIMITS.withMaxBodyBytes(bytes.length + 1));
        var decoded = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                () -> s3.decode(Samples.delivery(bytes)));
        var keys = ((Decoded.Events) decoded).events().stream().map(Event::key).collect(java.util.stream.Collectors.toSet());
        assertThat(keys).hasSize(count);
    }

    @Test
    void unknownFormatName_listsTheKnownOnes() {
        assertThatThrownBy(() -> Codecs.named("xml", LIMITS)).hasMessage(
                "unknown format 'xml', expected one of s3, mturk, sns, sns+s3, sns+mturk, raw, auto (json needs pointers)");
    }

    /**
     * An envelope with tens of thousands of message attributes is refused at once (SNS sends at most 10; see
     * {@code SnsLimitsTest}), not compared pair by pair.
     */
    @Test
    void anEnvelopeWithEightyThousandMessageAttributes_isRefusedWithoutATimeout() {
        var attributes = new StringBuilder();
        int count = 80_000;
        for (int i = 0; i < count; i++) {
            attributes.append(i == 0 ? "" : ",").append("\"a").append(i).append("\":{}");
        }
        var body = new String(Samples.bytes("samples/sns-s3.json"), StandardCharsets.UTF_8)
                .replaceFirst("\"MessageAttributes\"\\s*:\\s*\\{", "\"MessageAttributes\": {" + attributes + ",");
        assertThat(body).contains("\"a79999\"");
        var sns = Codecs.named("sns", LIMITS);

        var decoded = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
                () -> sns.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8))));

        assertThat(decoded).isInstanceOfSatisfying(Decoded.Malformed.class,
                m -> assertThat(m.reason()).contains("MessageAttributes"));
    }

    /**
     * A Message with a lone surrogate (escaped in the envelope) is not text: it is refused with its reason,
     * not turned into '?' — two different documents would then share one key, and the second be dropped
     * as a duplicate.
     */
    @Test
    void anSnsMessageWithALoneSurrogate_isMalformed_notMadeIntoAnotherDocumentsKey() {
        var sns = Codecs.named("sns+mturk", LIMITS);
        for (var surrogate : List.of("\\ud800", "\\udbff")) {
            var body = "{\"Type\":\"Notification\",\"MessageId\":\"m-" + surrogate.substring(2) + "\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
                    + "\"Message\":\"{\\\"EventDocId\\\":\\\"d" + surrogate + "\\\",\\\"Events\\\":[{\\\"EventType\\\":\\\"Ping\\\","
                    + "\\\"EventTimestamp\\\":\\\"2026-01-01T00:00:00Z\\\"}]}\",\"Timestamp\":\"2026-01-01T00:00:00.000Z\"}";
            var decoded = sns.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
            assertThat(decoded).as(body).isInstanceOfSatisfying(Decoded.Malformed.class,
                    m -> assertThat(m.reason()).contains("surrogate"));
        }
    }

    /** A raw message (no envelope) may have a field named like one of the envelope's, of another type. */
    @Test
    void aRawMessageWithAFieldNamedLikeAnEnvelopes_goesOnAsRaw_notDeadLettered() {
        var sns = Codecs.named("sns", LIMITS);
        for (var body : List.of("{\"orderId\":\"42\",\"Timestamp\":1732960000000}", "{\"Message\":{\"text\":\"hi\"},\"MessageId\":7}")) {
            var decoded = sns.decode(Samples.delivery(body.getBytes(StandardCharsets.UTF_8)));
            assertThat(decoded).as(body).isInstanceOfSatisfying(Decoded.Events.class,
                    e -> assertThat(e.events().getFirst().payloadAsString()).isEqualTo(body));
        }
    }
}
