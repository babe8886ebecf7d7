package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.transport.DeadLetterAttributes;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

class MessageAttributesTest {

    private static Map<String, MessageAttributeValue> strings(int count) {
        var out = new LinkedHashMap<String, MessageAttributeValue>();
        for (int i = 0; i < count; i++) {
            out.put("a" + i, MessageAttributes.string("v" + i));
        }
        return out;
    }

    @Test
    void foldAndUnfold_roundTripAnyValue_includingColonsDigitsAndBinary() {
        var attrs = new HashMap<String, MessageAttributeValue>();
        attrs.put("12:34", MessageAttributes.string("5:6:7"));
        attrs.put("bin", MessageAttributeValue.builder().dataType("Binary.png")
                .binaryValue(SdkBytes.fromByteArray(new byte[] {0, -1, 58})).build());
        attrs.put("num", MessageAttributeValue.builder().dataType("Number").stringValue("-1e3").build());
        assertThat(MessageAttributes.unfold(MessageAttributes.fold(attrs))).isEqualTo(attrs);
    }

    @Test
    void unfold_ofSomethingNotFolded_keepsItWhole() {
        assertThat(MessageAttributes.unfold("not: folded"))
                .isEqualTo(Map.of(MessageAttributes.OVERFLOW, MessageAttributes.string("not: folded")));
    }

    @Test
    void deadLetter_withFewAttributes_addsFerrysThree() {
        var out = MessageAttributes.forDeadLetter(strings(3), "why", "orders", "orders", 4);
        assertThat(out).hasSize(6).doesNotContainKey(MessageAttributes.OVERFLOW);
        assertThat(out.get(DeadLetterAttributes.REASON).stringValue()).isEqualTo("why");
        assertThat(out.get(DeadLetterAttributes.RECEIVE_COUNT).dataType()).isEqualTo("Number");
    }

    @Test
    void deadLetter_withTenAttributes_staysWithinSqsLimit_andLosesNothing() {
        var originals = strings(10);
        var out = MessageAttributes.forDeadLetter(originals, "why", "orders", "orders", 4);
        assertThat(out).hasSize(MessageAttributes.MAX).containsKey(MessageAttributes.OVERFLOW)
                .containsKey(DeadLetterAttributes.REASON);
        var all = MessageAttributes.expand(out);
        assertThat(all).containsAllEntriesOf(originals).hasSize(13);
    }

    @Test
    void deadLetter_ofADeadLetter_replacesTheOldReasonInsteadOfKeepingTwo() {
        var first = MessageAttributes.forDeadLetter(strings(2), "first", "q1", "q1", 1);
        var second = MessageAttributes.forDeadLetter(first, "second", "q2", "q2", 2);
        assertThat(second).hasSize(5);
        assertThat(second.get(DeadLetterAttributes.REASON).stringValue()).isEqualTo("second");
    }

    @Test // a sender cannot put its own reason in the DLQ by folding it into the overflow attribute
    void deadLetter_ofAMessageWithFerrysNamesFoldedIntoItsOverflow_keepsFerrysOwnValues() {
        var forged = new LinkedHashMap<String, MessageAttributeValue>();
        forged.put(DeadLetterAttributes.REASON, MessageAttributes.string("all fine, redrive me"));
        forged.put(DeadLetterAttributes.RECEIVE_COUNT, MessageAttributes.string("1"));
        forged.put("kept", MessageAttributes.string("yes"));
        var originals = Map.of(MessageAttributes.OVERFLOW, MessageAttributes.string(MessageAttributes.fold(forged)));
        var out = MessageAttributes.expand(
                MessageAttributes.forDeadLetter(originals, "SenderId not allowed", "orders", "orders", 4));
        assertThat(out.get(DeadLetterAttributes.REASON).stringValue()).isEqualTo("SenderId not allowed");
        assertThat(out.get(DeadLetterAttributes.RECEIVE_COUNT).stringValue()).isEqualTo("4");
        assertThat(out.get("kept").stringValue()).isEqualTo("yes");

        var deeper = forged;
        for (int i = 0; i < 3; i++) { // folded inside folds
            deeper = new LinkedHashMap<>(Map.of(MessageAttributes.OVERFLOW, MessageAttributes.string(MessageAttributes.fold(deeper))));
        }
        var nested = MessageAttributes.expand(
                MessageAttributes.forDeadLetter(deeper, "SenderId not allowed", "orders", "orders", 4));
        assertThat(nested.get(DeadLetterAttributes.REASON).stringValue()).isEqualTo("SenderId not allowed");
        assertThat(nested.get("kept").stringValue()).isEqualTo("yes");

        var relayed = MessageAttributes.expand(MessageAttributes.fromEvent(
                Map.of(MessageAttributes.OVERFLOW, MessageAttributes.fold(Map.of("traceparent", MessageAttributes.string("old")))),
                Map.of("traceparent", "fresh")));
        assertThat(relayed.get("traceparent").stringValue()).as("a propagated context is not replaced by a folded one")
                .isEqualTo("fresh");
    }

    @Test
    void fromEvent_foldsNamesSqsRefuses() {
        var out = MessageAttributes.fromEvent(Map.of("ok.name", "1", "AWS.trace", "2", "has space", "3",
                "trailing.", "4", "empty", ""));
        assertThat(out.keySet()).containsExactlyInAnyOrder("ok.name", MessageAttributes.OVERFLOW);
        assertThat(MessageAttributes.unfold(out.get(MessageAttributes.OVERFLOW).stringValue()))
                .containsOnlyKeys("AWS.trace", "has space", "trailing.", "empty");
    }

    @Test
    void fromEvent_sendsTheTraceContextWhole_first_andInPlaceOfTheOneTheEventArrivedWith() {
        var many = new java.util.TreeMap<String, String>();
        for (int i = 0; i < 12; i++) {
            many.put("attr" + i, "v" + i);
        }
        many.put("traceparent", "00-old-trace");
        many.put("tracestate", "old=state");
        many.put("AWSTraceHeader", "Root=1-old");
        var out = MessageAttributes.fromEvent(many, Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        assertThat(out).hasSize(10).containsKey(MessageAttributes.OVERFLOW);
        assertThat(out.get("traceparent").stringValue()).isEqualTo("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assertThat(out).as("the old context goes whole, not half").doesNotContainKeys("tracestate", "AWSTraceHeader");
        var folded = MessageAttributes.unfold(out.get(MessageAttributes.OVERFLOW).stringValue());
        assertThat(folded).doesNotContainKeys("traceparent", "tracestate", "AWSTraceHeader").hasSize(12 - 8);
    }

    @Test
    void validName_followsSqsRules() {
        assertThat(MessageAttributes.validName("s3.bucket")).isTrue();
        assertThat(MessageAttributes.validName("Amazon.x")).isFalse();
        assertThat(MessageAttributes.validName("a..b")).isFalse();
        assertThat(MessageAttributes.validName(".a")).isFalse();
        assertThat(MessageAttributes.validName("x".repeat(257))).isFalse();
    }

    @Test
    void redrive_stripsFerrysAttributes_andUnfoldsTheRest() {
        var dead = MessageAttributes.forDeadLetter(strings(4), "why", "orders", "orders", 2);
        assertThat(MessageAttributes.withoutDeadLetter(dead)).isEqualTo(strings(4));
    }

    /** An event's twelve attributes: nine sent as they are, three folded into the overflow attribute. */
    private static Map<String, String> twelve() {
        var attributes = new java.util.TreeMap<String, String>();
        for (int i = 1; i <= 12; i++) {
            attributes.put(String.format("k%02d", i), "v" + i);
        }
        return attributes;
    }

    private static Map<String, String> asStrings(Map<String, MessageAttributeValue> attributes) {
        return MessageAttributes.toStrings(attributes, new java.util.TreeMap<>());
    }

    @Test
    void deadLetter_ofAMessageThatAlreadyFolded_keepsWhatWasFolded() {
        var sent = MessageAttributes.fromEvent(twelve());
        assertThat(sent).hasSize(MessageAttributes.MAX).containsKey(MessageAttributes.OVERFLOW);

        var copy = MessageAttributes.forDeadLetter(sent, "why", "orders", "orders", 3);
        var redriven = MessageAttributes.withoutDeadLetter(copy);

        assertThat(copy).hasSizeLessThanOrEqualTo(MessageAttributes.MAX);
        assertThat(asStrings(MessageAttributes.expand(redriven))).isEqualTo(twelve());
    }

    @Test
    void fromEvent_ofAnEventThatArrivedFolded_foldsItsAttributesOnce_andLosesNone() {
        var arrived = asStrings(MessageAttributes.fromEvent(twelve())); // a relay: what a source hands the core
        var attributes = new java.util.TreeMap<>(arrived);
        attributes.put("added", "by the relay");

        var sent = MessageAttributes.fromEvent(attributes);

        var expected = new java.util.TreeMap<>(twelve());
        expected.put("added", "by the relay");
        assertThat(sent).hasSizeLessThanOrEqualTo(MessageAttributes.MAX);
        assertThat(asStrings(MessageAttributes.expand(sent))).isEqualTo(expected);
    }

    /** Every attribute a copy carries as it is must be one SQS takes: one it refuses gets the whole copy refused. */
    private static void assertSendable(Map<String, MessageAttributeValue> attributes) {
        attributes.forEach((name, value) -> {
            assertThat(MessageAttributes.validName(name)).as("name %s", name).isTrue();
            assertThat(value.dataType()).as("type of %s", name).matches("(String|Number|Binary)(\\..+)?");
            assertThat(value.stringValue()).as("value of %s", name).isNotEmpty();
            if (value.dataType().startsWith("Number")) {
                assertThat(new java.math.BigDecimal(value.stringValue())).as("number %s", name).isNotNull();
            }
        });
    }

    @Test
    void copiesOfAMessageWhoseFoldHoldsWhatSqsRefuses_keepThoseFolded_andLoseNone() {
        // the sink folds an empty value (a Kafka header without one) and a name SQS refuses; a dead-letter copy,
        // a redrive and a release unfolded them into attributes of their own, and SQS refused each copy for ever
        var event = new java.util.TreeMap<String, String>(Map.of("empty", "", "has space", "1", "ok", "v"));
        var sent = MessageAttributes.fromEvent(event);
        var crafted = new HashMap<>(sent); // and a sender's own fold: a Number that is not one, a type SQS does not know
        crafted.put(MessageAttributes.OVERFLOW, MessageAttributes.string(MessageAttributes.fold(Map.of(
                "n", MessageAttributeValue.builder().dataType("Number").stringValue("abc").build(),
                "w", MessageAttributeValue.builder().dataType("Weird").stringValue("x").build()))));

        var copy = MessageAttributes.forDeadLetter(sent, "why", "orders", "orders", 3);
        var redriven = MessageAttributes.withoutDeadLetter(copy);
        var released = MessageAttributes.withoutDeadLetter(copy, "ferry.release", "r1");
        var craftedCopy = MessageAttributes.forDeadLetter(crafted, "why", "orders", "orders", 3);

        for (var out : java.util.List.of(copy, redriven, released, craftedCopy, MessageAttributes.withoutDeadLetter(crafted))) {
            assertSendable(out);
        }
        assertThat(asStrings(MessageAttributes.expand(redriven))).isEqualTo(event);
        assertThat(MessageAttributes.expand(craftedCopy).get("n").stringValue()).isEqualTo("abc");
        assertThat(MessageAttributes.sendable("n", MessageAttributeValue.builder().dataType("Number").stringValue("-1.5e3").build()))
                .isTrue();
        for (var number : java.util.List.of("1E-100", "6.02E+123", "-1e-128", "1e126", "0", "0E+999")) { // SQS: 10^-128 to 10^126
            assertThat(MessageAttributes.sendable("n", MessageAttributeValue.builder().dataType("Number").stringValue(number)
                    .build())).as(number).isTrue();
        }
        for (var number : java.util.List.of("1e127", "1e-129", "1." + "1".repeat(38), "1e", "NaN")) {
            assertThat(MessageAttributes.sendable("n", MessageAttributeValue.builder().dataType("Number").stringValue(number)
                    .build())).as(number).isFalse();
        }
        assertThat(MessageAttributes.sendable("c", MessageAttributes.string("a\u0001b"))).as("a control character").isFalse();
        assertThat(MessageAttributes.sendable("s", MessageAttributes.string("x\uD800"))).as("a lone surrogate").isFalse();
        assertThat(MessageAttributes.sendable("e", MessageAttributes.string("caf\u00e9 \uD83D\uDE00"))).isTrue();
    }

    /** A sink does not send on where a message was moved back to: relayed, the marks made its copies one event. */
    @Test
    void aSink_doesNotSendOnTheMarksOfAMessageMovedBack() {
        var out = MessageAttributes.fromEvent(Map.of("ferry.origin", "arn|x", "ferry.redrive", "run", "ferry.release", "t/1",
                "color", "blue"));
        assertThat(out).containsOnlyKeys("color");
    }

    /**
     * Nor the identity a dead letter names: trusted in the queue it was dead-lettered from, it made the events a Ferry
     * sink sent there (one dead letter split in two, say) one event — by its own name or folded, as a fold is unfolded.
     */
    @Test
    void aSink_doesNotSendOnTheIdentityADeadLetterNames_byItsOwnNameOrFolded() {
        var out = MessageAttributes.expand(MessageAttributes.fromEvent(Map.of(MessageAttributes.DEAD_LETTER_ORIGIN, "id-1",
                DeadLetterAttributes.SOURCE, "orders", "color", "blue")));
        assertThat(out).containsOnlyKeys(DeadLetterAttributes.SOURCE, "color");

        var fold = MessageAttributes.fold(Map.of(MessageAttributes.DEAD_LETTER_ORIGIN, MessageAttributes.string("id-1"),
                "size", MessageAttributes.string("L")));
        var folded = MessageAttributes.expand(MessageAttributes.fromEvent(Map.of(MessageAttributes.OVERFLOW, fold,
                DeadLetterAttributes.SOURCE, "orders")));
        assertThat(folded).containsOnlyKeys(DeadLetterAttributes.SOURCE, "size");
    }

    /** The identity a delivery of {@code attributes} in queue {@code queue} carries; SQS's deduplication id is {@code dlq-m-old}. */
    private static String identityIn(String queue, Map<String, MessageAttributeValue> attributes) {
        var m = Message.builder().messageId("m-new").receiptHandle("h").body("b").messageAttributes(attributes)
                .attributesWithStrings(Map.of("MessageDeduplicationId", "dlq-m-old")).build();
        return new ReceivedMessages("source", queue, "arn:aws:sqs:us-east-1:1:" + queue, Clock.systemUTC(), true, Set.of())
                .toDelivery(m, System.nanoTime(), false).deduplicationId();
    }

    /**
     * SQS's own move task brings a dead letter back as it is, a new message: in the queue it was dead-lettered from it
     * is the message it copies; read from its DLQ, or moved to another queue, it is itself.
     */
    @Test
    void aDeadLetterBackInTheQueueItNames_isTheMessageItCopies_elsewhereItself() {
        var deadLetter = MessageAttributes.forDeadLetter(Map.of("color", MessageAttributes.string("blue")), "400", "orders",
                "orders", 3, "order-42");
        assertThat(identityIn("orders", deadLetter)).isEqualTo("order-42");
        assertThat(identityIn("orders-dlq", deadLetter)).as("read from its DLQ").isEqualTo("dlq-m-old");
        assertThat(identityIn("payments", deadLetter)).as("moved to another queue").isEqualTo("dlq-m-old");
        var folded = Map.of(MessageAttributes.OVERFLOW, MessageAttributes.string(MessageAttributes.fold(deadLetter)));
        assertThat(identityIn("orders", folded)).as("folded").isEqualTo("order-42");
    }

    @Test
    void aSendersFoldOfThousands_isKeptWholeOnReceive_notUnpackedIntoTheDelivery() {
        // unpacked at receive, before any screening: ~80,000 attributes per MiB of tiny entries, 6-8 MB a delivery
        var fold = MessageAttributes.string(MessageAttributes.fold(strings(15_000)));
        var m = Message.builder().messageId("m1").receiptHandle("h1").body("b")
                .messageAttributes(Map.of(MessageAttributes.OVERFLOW, fold, "color", MessageAttributes.string("blue"))).build();
        var delivery = new ReceivedMessages("orders", "orders", "arn:aws:sqs:us-east-1:1:orders", Clock.systemUTC(), true, Set.of())
                .toDelivery(m, System.nanoTime(), false);
        assertThat(delivery.attributes().size()).isLessThan(1_100);
        assertThat(delivery.attributes()).containsEntry(MessageAttributes.OVERFLOW, fold.stringValue())
                .containsEntry("color", "blue");
        assertThat(MessageAttributes.expand(Map.of(MessageAttributes.OVERFLOW, fold))).containsOnlyKeys(MessageAttributes.OVERFLOW);
        assertThat(MessageAttributes.expand(Map.of(MessageAttributes.OVERFLOW,
                MessageAttributes.string(MessageAttributes.fold(strings(MessageAttributes.MAX_UNFOLDED))))))
                .as("a fold of up to the limit is unfolded").hasSize(MessageAttributes.MAX_UNFOLDED);
    }

    /** Everything folded, however deep, unfolded without a limit. */
    private static Map<String, MessageAttributeValue> unfoldAll(Map<String, MessageAttributeValue> attributes) {
        var out = new HashMap<>(attributes);
        for (int i = 0; i < 10 && out.containsKey(MessageAttributes.OVERFLOW); i++) {
            MessageAttributes.unfold(out.remove(MessageAttributes.OVERFLOW).stringValue()).forEach(out::putIfAbsent);
        }
        return out;
    }

    @Test
    void aDeadLetterCopy_ofAFoldTooBigToUnfold_keepsItWhole_insideItsOwnFold() {
        // names after the overflow's: kept as it is, it would have taken a place, then been replaced by the new fold
        var big = strings(15_000);
        var originals = new HashMap<String, MessageAttributeValue>();
        for (int i = 0; i < 9; i++) {
            originals.put("x" + i, MessageAttributes.string("v" + i));
        }
        originals.put(MessageAttributes.OVERFLOW, MessageAttributes.string(MessageAttributes.fold(big)));
        var copy = MessageAttributes.forDeadLetter(originals, "why", "orders", "orders", 3, "id-1");
        assertThat(copy).hasSizeLessThanOrEqualTo(MessageAttributes.MAX);
        var all = unfoldAll(copy);
        assertThat(all).containsAllEntriesOf(big).doesNotContainKey(MessageAttributes.OVERFLOW);
        for (int i = 0; i < 9; i++) {
            assertThat(all).containsEntry("x" + i, MessageAttributes.string("v" + i));
        }
    }

    @Test
    void aFoldTooBigToUnfold_besideAnAttributeThatCannotBeSent_isKeptInsideTheNewFold_notReplacedByIt() {
        // few attributes (no overflow of the count), but one that must be folded: the new fold took the place of the
        // one kept whole, and its thousands of attributes were gone from the copy
        var big = strings(15_000);
        var originals = new HashMap<String, MessageAttributeValue>();
        for (int i = 0; i < 3; i++) {
            originals.put("x" + i, MessageAttributes.string("v" + i));
        }
        originals.put("not a valid name", MessageAttributes.string("folded, not sent as it is"));
        originals.put(MessageAttributes.OVERFLOW, MessageAttributes.string(MessageAttributes.fold(big)));
        var copy = MessageAttributes.forDeadLetter(originals, "why", "orders", "orders", 3, "id-1");
        assertThat(copy).hasSizeLessThanOrEqualTo(MessageAttributes.MAX);
        var all = unfoldAll(copy);
        assertThat(all).containsAllEntriesOf(big).containsEntry("not a valid name", MessageAttributes.string("folded, not sent as it is"));
    }

    @Test // the test kit's InMemoryQueue counts an event's attributes by these same figures (InMemoryQueueTest): kept equal
    void twelveAttributes_weighNineOfTheirOwnAndAFoldOfThree() {
        var attributes = new HashMap<String, String>();
        for (int i = 0; i < 12; i++) {
            attributes.put(String.format("a%02d", i), "v");
        }
        var sent = MessageAttributes.fromEvent(attributes);
        assertThat(sent).hasSize(10).containsKey(MessageAttributes.OVERFLOW);
        assertThat(sent.get(MessageAttributes.OVERFLOW).stringValue()).isEqualTo("3:a096:String1:v3:a106:String1:v3:a116:String1:v");
        assertThat(MessageAttributes.bytes(sent)).isEqualTo(9 * 10 + 14 + 6 + 3 * 16);
        String traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assertThat(MessageAttributes.bytes(MessageAttributes.fromEvent(Map.of("ferry.redrive", "run-1", "ferry.origin",
                "arn|id"), Map.of("traceparent", traceparent)))).as("as InMemoryQueueTest counts them").isEqualTo(11 + 6 + 55);
    }
}
