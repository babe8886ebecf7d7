package dev.ferry.benchmarks;

import java.util.ArrayList;
import java.util.Locale;

/**
 * The SQS end-to-end comparison as advised for ElasticMQ: one server, warmed by both contenders
 * until two consecutive bare drains agree within 15%, then rounds that drain the same number of messages
 * with Ferry and with the bare SDK loop, alternating which goes first; reports each round's rates
 * and ratio, and the median ratio.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.ferry.benchmarks.SqsAlternating [rounds] [pollers] [messages]</pre>
 */
public final class SqsAlternating {

    private SqsAlternating() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int pollers = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int messages = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        try (var sqs = new SqsDrain()) {
            // both contenders warm up (the server and each one's JIT), until two bare drains in a row agree within 15%
            double previous = 0;
            for (int i = 1; i <= 40; i++) {
                double ferry = drain(sqs, true, pollers, messages);
                double rate = sqs.bareRate(pollers, messages);
                System.out.printf(Locale.ROOT, "warm-up %2d: ferry %,8.0f msg/s  bare %,8.0f msg/s%n", i, ferry, rate);
                if (i >= 6 && previous > 0 && Math.abs(rate - previous) / previous < 0.15) {
                    break;
                }
                previous = rate;
            }
            var ratios = new ArrayList<Double>();
            for (int r = 1; r <= rounds; r++) {
                boolean ferryFirst = r % 2 == 1;
                double first = drain(sqs, ferryFirst, pollers, messages);
                double second = drain(sqs, !ferryFirst, pollers, messages);
                double ferry = ferryFirst ? first : second;
                double bare = ferryFirst ? second : first;
                ratios.add(ferry / bare);
                System.out.printf(Locale.ROOT, "round %d: ferry %,8.0f msg/s  bare %,8.0f msg/s  ratio %.2f%n",
                        r, ferry, bare, ferry / bare);
            }
            ratios.sort(Double::compare);
            System.out.printf(Locale.ROOT, "median ratio ferry/bare over %d rounds (%d pollers, %,d messages): %.2f%n",
                    rounds, pollers, messages, ratios.get(ratios.size() / 2));
        }
    }

    private static double drain(SqsDrain sqs, boolean ferry, int pollers, int messages) throws InterruptedException {
        sqs.fill(messages);
        long start = System.nanoTime();
        try (var drain = ferry ? sqs.ferry(pollers, messages) : sqs.bare(pollers, messages)) {
            drain.await();
            return messages / ((System.nanoTime() - start) / 1e9);
        }
    }
}
