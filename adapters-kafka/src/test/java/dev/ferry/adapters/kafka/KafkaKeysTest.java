package dev.ferry.adapters.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Record keys as group keys: distinct keys stay distinct, and a sink writes the bytes the source read. */
class KafkaKeysTest {

    @Test
    void twoBinaryKeysThatAreNotUtf8_areTwoGroupKeys_andGoBackToTheirOwnBytes() {
        var buffers = new PartitionBuffers("test", 4, 1 << 20);
        var tp = new TopicPartition("t", 0);
        buffers.assigned(List.of(tp));
        byte[] a = {(byte) 0x80, 0x01};
        byte[] b = {(byte) 0x82, 0x01};
        buffers.take(new ConsumerRecords<>(Map.of(tp, List.of(new ConsumerRecord<>("t", 0, 0L, a, new byte[] {1}),
                new ConsumerRecord<>("t", 0, 1L, b, new byte[] {2}))), Map.of()));
        var out = buffers.handOut(10, System.nanoTime());
        var first = KafkaDeliveries.delivery(out.get(0), "test").groupKey();
        var second = KafkaDeliveries.delivery(out.get(1), "test").groupKey();

        assertThat(first).isNotEqualTo(second);
        assertThat(KafkaKeys.bytes(first)).isEqualTo(a);
        assertThat(KafkaKeys.bytes(second)).isEqualTo(b);
    }

    @Test
    void textKeys_areTheirText_evenOneThatLooksLikeABinaryOne() {
        assertThat(KafkaKeys.text("order-7 ✓".getBytes(StandardCharsets.UTF_8))).isEqualTo("order-7 ✓");
        assertThat(KafkaKeys.bytes("order-7 ✓")).isEqualTo("order-7 ✓".getBytes(StandardCharsets.UTF_8));
        byte[] lookalike = "b64:AAE=".getBytes(StandardCharsets.UTF_8);
        assertThat(KafkaKeys.text(lookalike)).isNotEqualTo("b64:AAE=");
        assertThat(KafkaKeys.bytes(KafkaKeys.text(lookalike))).isEqualTo(lookalike);
        assertThat(KafkaKeys.bytes("b64:not base64!")).as("a decoder's group key that only looks like ours")
                .isEqualTo("b64:not base64!".getBytes(StandardCharsets.UTF_8));
        assertThat(KafkaKeys.text(null)).isNull();
        assertThat(KafkaKeys.bytes(null)).isNull();
        // half a surrogate pair: UTF-8 made each "?", and keys that differed only there were one record key
        var high = KafkaKeys.bytes("a\uD800");
        var low = KafkaKeys.bytes("a\uDC00");
        assertThat(high).isNotEqualTo(low).isNotEqualTo("a?".getBytes(StandardCharsets.UTF_8));
        assertThat(high).isEqualTo(new byte[] {'a', (byte) 0xED, (byte) 0xA0, (byte) 0x80});
        assertThat(KafkaKeys.bytes("\uD83D\uDE00x\uDFFF")).as("a whole pair is still its character")
                .startsWith("\uD83D\uDE00x".getBytes(StandardCharsets.UTF_8));
    }

    @Test // a review: a group key from elsewhere that is valid Base64 after b64: was decoded — "b64:QQ==" (an SQS group,
          // an HTTP header anyone may set) and "A" became one record key, and a compacted topic kept one tenant's value
    void aGroupKeyThatOnlyLooksBinary_isWrittenAsItsText_notAsAnotherKeysBytes() {
        assertThat(KafkaKeys.bytes("b64:QQ==")).isEqualTo("b64:QQ==".getBytes(StandardCharsets.UTF_8))
                .isNotEqualTo(KafkaKeys.bytes("A"));
        assertThat(KafkaKeys.bytes("b64:Zm9v")).as("'foo' is text: never made b64: by a source")
                .isEqualTo("b64:Zm9v".getBytes(StandardCharsets.UTF_8));
        byte[] binary = {(byte) 0x80, 0x01};
        assertThat(KafkaKeys.bytes(KafkaKeys.text(binary))).as("what a source made still goes back").isEqualTo(binary);
        assertThat(KafkaKeys.bytes("b64:gAE")).as("not the canonical form a source makes").isEqualTo(
                "b64:gAE".getBytes(StandardCharsets.UTF_8));
    }
}
