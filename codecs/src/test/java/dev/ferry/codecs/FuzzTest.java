package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded mutations of the valid samples (bit flips, byte insertions and deletions, truncations,
 * splices of structural characters): whatever comes out, a decoder answers Events or Malformed
 * with a non-blank reason — it never throws and never hangs. Reproduce with -Dferry.fuzz.seed=N.
 */
class FuzzTest {

    private static final long SEED = Long.getLong("ferry.fuzz.seed", 42L);
    private static final int CASES = Integer.getInteger("ferry.fuzz.cases", 4000);
    private static final byte[] STRUCTURE = "{}[],:\"\\ 0-.eE\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private static final List<String[]> TARGETS = List.of(
            new String[] {"s3-one.json", "s3"}, new String[] {"s3-ten.json", "s3"},
            new String[] {"s3-reference.json", "s3"}, new String[] {"s3-test-event.json", "s3"},
            new String[] {"mturk-one.json", "mturk"}, new String[] {"mturk-ten.json", "mturk"},
            new String[] {"mturk-ping.json", "mturk"}, new String[] {"sns-s3.json", "sns"},
            new String[] {"sns-subscription.json", "sns"}, new String[] {"s3-one.json", "json"});

    @TestFactory
    @Timeout(120)
    Stream<DynamicTest> mutatedSamples_neverEscapeADecoder() {
        return TARGETS.stream().map(target -> DynamicTest.dynamicTest(target[0] + " via " + target[1], () -> {
            var decoder = decoder(target[1]);
            var original = Samples.bytes("samples/" + target[0]);
            var rnd = new SplittableRandom(SEED ^ target[0].hashCode() ^ target[1].hashCode());
            int events = 0;
            int malformed = 0;
            for (int i = 0; i < CASES; i++) {
                var body = mutate(original, rnd);
                Decoded decoded;
                try {
                    decoded = decoder.decode(Samples.delivery(body));
                } catch (Throwable t) {
                    throw new AssertionError("case " + i + " (seed " + SEED + ") escaped the decoder: " + t, t);
                }
                switch (decoded) {
                    case Decoded.Events e -> events++;
                    case Decoded.Malformed m -> {
                        assertThat(m.reason()).as("case " + i).isNotBlank();
                        malformed++;
                    }
                }
            }
            assertThat(events + malformed).isEqualTo(CASES);
            assertThat(malformed).as("most mutations break the document").isGreaterThan(CASES / 10);
        }));
    }

    private static Decoder decoder(String name) {
        return MalformedCorpusTest.DECODERS.get(name);
    }

    static byte[] mutate(byte[] original, SplittableRandom rnd) {
        var b = new ArrayList<Byte>(original.length + 8);
        for (var x : original) {
            b.add(x);
        }
        int edits = 1 + rnd.nextInt(4);
        for (int e = 0; e < edits && !b.isEmpty(); e++) {
            int at = rnd.nextInt(b.size());
            switch (rnd.nextInt(6)) {
                case 0 -> b.set(at, (byte) (b.get(at) ^ (1 << rnd.nextInt(8))));
                case 1 -> b.add(at, STRUCTURE[rnd.nextInt(STRUCTURE.length)]);
                case 2 -> b.remove(at);
                case 3 -> b.subList(at, b.size()).clear();
                case 4 -> b.set(at, (byte) rnd.nextInt(256));
                default -> {
                    int len = Math.min(b.size() - at, 1 + rnd.nextInt(20));
                    var copy = new ArrayList<>(b.subList(at, at + len));
                    b.addAll(rnd.nextInt(b.size() + 1), copy);
                }
            }
        }
        var out = new byte[b.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.get(i);
        }
        return out;
    }
}
