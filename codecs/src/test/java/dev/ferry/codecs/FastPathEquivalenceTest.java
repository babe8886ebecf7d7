package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Event;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

/**
 * The decoders' byte-level fast paths ({@link Scan}) against their Jackson paths: on every sample,
 * every corpus body, hand-made variants (escapes, non-ASCII, nulls, reordered and unknown fields)
 * and thousands of seeded mutations, {@code decode} must answer exactly what the Jackson path alone
 * answers — the same events (keys, types, times, groups, payload bytes, attributes) or the same
 * Malformed reason. The fast path may decline anything; it may never differ.
 */
class FastPathEquivalenceTest {

    private static final JsonLimits LIMITS = JsonLimits.defaults();
    private static final long SEED = Long.getLong("ferry.fuzz.seed", 7L);
    private static final int CASES = Integer.getInteger("ferry.fuzz.cases", 3000);

    /** A format's decoder with its fast path, and the same decoder reading with Jackson alone. */
    private record Pair(String name, JsonSupport fast, Decoder jackson) {
    }

    private static List<Pair> pairs() {
        return List.of(
                new Pair("s3", new S3Decoder(LIMITS), new S3Decoder(LIMITS).jacksonOnly()),
                new Pair("mturk", new MturkDecoder(LIMITS), new MturkDecoder(LIMITS).jacksonOnly()),
                new Pair("sns+s3", new SnsDecoder(LIMITS, new S3Decoder(LIMITS)),
                        new SnsDecoder(LIMITS, new S3Decoder(LIMITS).jacksonOnly()).jacksonOnly()),
                new Pair("sns", new SnsDecoder(LIMITS, new SniffingDecoder(LIMITS, Codecs.raw("raw", LIMITS), true, false)),
                        new SnsDecoder(LIMITS, new SniffingDecoder(LIMITS, Codecs.raw("raw", LIMITS), false, false))
                                .jacksonOnly()));
    }

    private static final List<String> SAMPLES = List.of("s3-one.json", "s3-ten.json", "s3-reference.json",
            "s3-test-event.json", "mturk-one.json", "mturk-ten.json", "mturk-ping.json", "sns-s3.json",
            "sns-subscription.json");

    @Test
    void theFastPathReadsEveryValidSampleOfItsFormat_itselfAndAlike() {
        var taken = new ArrayList<String>();
        for (var pair : pairs()) {
            for (var sample : SAMPLES) {
                var delivery = Samples.sample(sample);
                var quick = pair.fast().fast(delivery.body(), delivery);
                if (quick != null) {
                    taken.add(pair.name() + ":" + sample);
                    assertSame(pair.name() + " " + sample, quick, pair.jackson().decode(delivery));
                }
            }
        }
        // the rare shapes (test events, subscription confirmations) are left to Jackson on purpose
        assertThat(taken).contains("s3:s3-one.json", "s3:s3-ten.json", "s3:s3-reference.json", "mturk:mturk-one.json",
                "mturk:mturk-ten.json", "mturk:mturk-ping.json", "sns+s3:sns-s3.json", "sns:sns-s3.json");
    }

    @TestFactory
    Stream<DynamicTest> everyCorpusBody_isAnsweredAsJacksonAnswersIt() {
        return MalformedCorpusTest.manifest().map(row -> DynamicTest.dynamicTest(row[0], () -> {
            var delivery = Samples.delivery(Samples.bytes("malformed/" + row[0]));
            for (var pair : pairs()) {
                assertSame(pair.name() + " " + row[0], pair.fast().decode(delivery), pair.jackson().decode(delivery));
            }
        }));
    }

    @Test
    void handMadeVariants_areAnsweredAsJacksonAnswersThem() {
        var mturk = new String(Samples.bytes("samples/mturk-one.json"), StandardCharsets.UTF_8);
        var s3 = new String(Samples.bytes("samples/s3-one.json"), StandardCharsets.UTF_8);
        var variants = new ArrayList<String>();
        variants.add(mturk.replace("\"AssignmentSubmitted\"", "\"Assignment\\u0053ubmitted\""));
        variants.add(mturk.replace("\"EventDocId\": \"", "\"EventDocId\": \"\\u00e9\\n\\\"x"));
        variants.add(mturk.replace("\"CustomerId\":", "\"Extra\": [1, -2.5e3, true, false, null, {\"a\": [{}]}], \"CustomerId\":"));
        variants.add(mturk.replace("\"CustomerId\":", "\"Cust\\u006fmerId\": \"escaped name\", \"CustomerId\":"));
        variants.add(mturk.replace("\"HITTypeId\":", "\"HITTypeId\": null, \"Other\":"));
        variants.add(mturk.replace("\"AssignmentId\":", "\"x\": 1, \"x\": 2, \"AssignmentId\":"));
        variants.add(mturk.replace("\"EventType\":", "\"EventType\": \"A\", \"EventType\":"));
        variants.add(mturk.replace("\"EventTimestamp\": \"", "\"EventTimestamp\": \"2026-11-22T10:00:00+01:00\", \"_\": \""));
        variants.add(mturk.replace(" ", "\n\t \r"));
        variants.add(mturk.replace("\"HITId\": \"", "\"HITId\": \"\u00fcn\u00efc\u00f8d\u00e9 \uD83D\uDE00 "));
        variants.add(mturk + "  \n");
        variants.add(mturk + " x");
        variants.add(s3.replace("\"eventName\":", "\"eventName\": null, \"unused\":"));
        variants.add(s3.replace("\"size\": ", "\"size\": 1e3, \"_size\": "));
        variants.add(s3.replace("\"size\": ", "\"size\": -0, \"_size\": "));
        variants.add(s3.replace("\"size\": ", "\"size\": 12345678901234567890123, \"_size\": "));
        variants.add(s3.replace("\"key\": \"", "\"key\": \"a%2Fb+c%E2%82%AC\\u0025"));
        variants.add(s3.replace("\"key\": \"", "\"key\": \"%zz"));
        variants.add(s3.replace("{\"Records\":", "{\"Event\": 5, \"Records\":"));
        variants.add(s3.replace("{\"Records\":", "{\"Service\": \"Amazon S3\", \"Records\":"));
        variants.add(s3.replace("\"eventTime\": \"", "\"eventTime\": \"2026-02-30T00:00:00Z\", \"_t\": \""));
        int checked = 0;
        for (var pair : pairs()) {
            for (var v : variants) {
                var delivery = Samples.delivery(v.getBytes(StandardCharsets.UTF_8));
                assertSame(pair.name() + " " + v, pair.fast().decode(delivery), pair.jackson().decode(delivery));
                checked++;
            }
        }
        assertThat(checked).isEqualTo(variants.size() * pairs().size());
    }

    @TestFactory
    @Timeout(120)
    Stream<DynamicTest> mutatedSamples_areAnsweredAsJacksonAnswersThem() {
        return pairs().stream().map(pair -> DynamicTest.dynamicTest(pair.name(), () -> {
            var rnd = new SplittableRandom(SEED ^ pair.name().hashCode());
            int accepted = 0;
            for (int i = 0; i < CASES; i++) {
                var body = FuzzTest.mutate(Samples.bytes("samples/" + SAMPLES.get(rnd.nextInt(SAMPLES.size()))), rnd);
                var delivery = Samples.delivery(body);
                Decoded quick = null;
                if (JsonSupport.precheck(body, LIMITS) == null) {
                    quick = pair.fast().fast(body, delivery); // never throws: a throw fails the test
                }
                var jackson = pair.jackson().decode(delivery);
                if (quick != null) {
                    accepted++;
                    assertSame("case " + i + " (seed " + SEED + ")", quick, jackson);
                }
                assertSame("case " + i + " (seed " + SEED + ")", pair.fast().decode(delivery), jackson);
            }
            assertThat(accepted).as("mutations the fast path read itself").isGreaterThan(CASES / 50);
        }));
    }

    private static void assertSame(String what, Decoded actual, Decoded expected) {
        switch (expected) {
            case Decoded.Malformed m -> assertThat(actual).as(what).isEqualTo(m);
            case Decoded.Events e -> {
                assertThat(actual).as(what).isInstanceOf(Decoded.Events.class);
                var got = ((Decoded.Events) actual).events();
                assertThat(got).as(what).hasSameSizeAs(e.events());
                for (int i = 0; i < got.size(); i++) {
                    Event a = got.get(i);
                    Event b = e.events().get(i);
                    assertThat(a.key()).as(what).isEqualTo(b.key());
                    assertThat(a.type()).as(what).isEqualTo(b.type());
                    assertThat(a.time()).as(what).isEqualTo(b.time());
                    assertThat(a.groupKey()).as(what).isEqualTo(b.groupKey());
                    assertThat(a.payload()).as(what).isEqualTo(b.payload());
                    assertThat(a.attributes()).as(what).isEqualTo(b.attributes());
                    assertThat(List.copyOf(a.attributes().entrySet())).as(what + " (attribute order)")
                            .isEqualTo(List.copyOf(b.attributes().entrySet()));
                    assertThat(a.attributes().hashCode()).as(what).isEqualTo(b.attributes().hashCode());
                }
            }
        }
    }
}
