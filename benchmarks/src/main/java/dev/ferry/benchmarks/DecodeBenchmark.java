package dev.ferry.benchmarks;

import com.alibaba.fastjson2.JSON;
import com.alibaba.fastjson2.JSONReader;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.ferry.codecs.Codecs;
import dev.ferry.codecs.JsonLimits;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Ferry's streaming decoders against the baselines, on the same payloads in the same run:
 * Jackson databind with a reused {@link ObjectReader} into equivalent records, and fastjson2.
 * Every variant reads the same fields; the SNS variants decode the inner S3 notification too.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class DecodeBenchmark {

    @Param({"s3-reference", "s3-ten", "sns-s3", "mturk-one", "mturk-ten"})
    public String payload;

    private Delivery delivery;
    private byte[] body;
    private Decoder ferry;
    private ObjectReader databind;
    private ObjectReader databindInner;
    private Class<?> type;

    @Setup
    public void setUp() {
        body = Payloads.load(payload);
        delivery = new Delivery("m-1", body, Map.of(), 1, Instant.EPOCH, null, null, "bench", null);
        var limits = JsonLimits.defaults();
        var mapper = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        switch (payload) {
            case "s3-reference", "s3-ten" -> {
                ferry = Codecs.s3(limits);
                type = BaselineModel.S3Notification.class;
            }
            case "sns-s3" -> {
                ferry = Codecs.sns(limits, Codecs.s3(limits));
                type = BaselineModel.SnsEnvelope.class;
                databindInner = mapper.readerFor(BaselineModel.S3Notification.class);
            }
            default -> {
                ferry = Codecs.mturk(limits);
                type = BaselineModel.MturkDocument.class;
            }
        }
        databind = mapper.readerFor(type);
        check();
    }

    /** Fails the run if a variant reads nothing: a benchmark of a no-op proves nothing. */
    private void check() {
        if (!(ferry.decode(delivery) instanceof Decoded.Events e) || e.events().isEmpty()) {
            throw new IllegalStateException("Ferry did not decode " + payload);
        }
        for (var result : new Object[] {databind(), fastjson2()}) {
            var text = String.valueOf(result);
            if (!text.contains("key=") && !text.contains("eventDocId=")) {
                throw new IllegalStateException("baseline did not bind " + payload + ": " + text);
            }
            if (text.contains("key=null") || text.contains("eventDocId=null") || text.contains("eventType=null")) {
                throw new IllegalStateException("baseline left fields empty for " + payload + ": " + text);
            }
        }
    }

    @Benchmark
    public Decoded ferry() {
        return ferry.decode(delivery);
    }

    @Benchmark
    public Object databind() {
        try {
            Object value = databind.readValue(body);
            if (value instanceof BaselineModel.SnsEnvelope envelope) {
                return databindInner.readValue(envelope.message());
            }
            return value;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Benchmark
    public Object fastjson2() {
        Object value = JSON.parseObject(body, type, JSONReader.Feature.SupportSmartMatch);
        if (value instanceof BaselineModel.SnsEnvelope envelope) {
            return JSON.parseObject(envelope.message().getBytes(StandardCharsets.UTF_8), BaselineModel.S3Notification.class,
                    JSONReader.Feature.SupportSmartMatch);
        }
        return value;
    }
}
