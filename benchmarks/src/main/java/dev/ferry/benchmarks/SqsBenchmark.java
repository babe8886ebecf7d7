package dev.ferry.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * End to end on a real SQS server (ElasticMQ in this JVM, 127.0.0.1): drain {@value #MESSAGES}
 * messages through Ferry's SQS source + the engine + a no-op handler + batched deletes, against a
 * bare AWS SDK loop (receive 10 + DeleteMessageBatch) with the same number of pollers. One
 * operation = one message; each invocation fills the queue first (not timed) and stops its
 * contender after the count is reached (not timed). Each contender runs in its own fork with its
 * own server, which the trial set-up warms by draining {@code ferry.bench.sqs.warmup} messages
 * (200,000 by default) with the bare loop first, because ElasticMQ needs a long warm-up
 * (benchmarks/README.md). {@link SqsAlternating} measures the same two A B A B on one server.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4)
@Measurement(iterations = 8)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@OperationsPerInvocation(SqsBenchmark.MESSAGES)
public class SqsBenchmark {

    static final int MESSAGES = 20_000;

    @Param({"4"})
    public int pollers;

    private SqsDrain sqs;
    private SqsDrain.Drain drain;

    @Setup(Level.Trial)
    public void startServer() throws InterruptedException {
        sqs = new SqsDrain();
        int warmup = Integer.getInteger("ferry.bench.sqs.warmup", 200_000);
        for (int done = 0; done < warmup; done += MESSAGES) {
            sqs.bareRate(pollers, MESSAGES);
        }
    }

    @Setup(Level.Invocation)
    public void fill() {
        sqs.fill(MESSAGES);
    }

    @TearDown(Level.Invocation)
    public void stopDrain() throws InterruptedException {
        drain.close();
    }

    @TearDown(Level.Trial)
    public void stopServer() {
        sqs.close();
    }

    @Benchmark
    public void ferry() throws InterruptedException {
        drain = sqs.ferry(pollers, MESSAGES);
        drain.await();
    }

    @Benchmark
    public void bareSdkLoop() throws InterruptedException {
        drain = sqs.bare(pollers, MESSAGES);
        drain.await();
    }
}
