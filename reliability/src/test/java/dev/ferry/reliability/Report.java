package dev.ferry.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The suite's report: one row per scenario, rewritten to {@code target/reliability-report.md} after each. */
final class Report {

    /**
     * @param duplicates        requests the sink got for an event it had already: duplicated effects for a sink
     *                          that ignores the Idempotency-Key header Ferry sends with each
     * @param inversions        effects that arrived before an earlier sequence number of their group
     * @param recoverSeconds    from the fault (or its end) until every message was handled; -1 when no fault
     */
    record Row(String scenario, int sent, int effects, int lost, int duplicates, int inversions,
               int deadLettered, String deadLetterReasons, double recoverSeconds, double seconds, String notes) {
    }

    private static final List<Row> ROWS = new ArrayList<>();
    private static final Path FILE = Path.of("target/reliability-report.md");

    private Report() {
    }

    static synchronized void add(Row row) {
        ROWS.add(row);
        var sb = new StringBuilder("# Reliability report\n\nRun at ").append(Instant.now())
                .append(" (`./reliability/run`), ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores. SQS is ElasticMQ, the ledger DynamoDB Local shared by every instance, each instance a ")
                .append("separate `java -jar app/target/ferry.jar` process; the sink an HTTP API that records each request.\n\n")
                .append("| scenario | sent | handled | lost | duplicated effects | inversions | ")
                .append("dead-lettered | recover (s) | took (s) | notes |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (var r : ROWS) {
            sb.append("| ").append(r.scenario()).append(" | ").append(r.sent()).append(" | ").append(r.effects())
                    .append(" | ").append(r.lost()).append(" | ").append(r.duplicates())
                    .append(" | ").append(r.inversions()).append(" | ").append(r.deadLettered())
                    .append(r.deadLetterReasons().isEmpty() ? "" : " (" + r.deadLetterReasons() + ")")
                    .append(" | ").append(r.recoverSeconds() < 0 ? "-" : String.format("%.1f", r.recoverSeconds()))
                    .append(" | ").append(String.format("%.1f", r.seconds())).append(" | ").append(r.notes()).append(" |\n");
        }
        try {
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.println("reliability: " + row);
    }
}
