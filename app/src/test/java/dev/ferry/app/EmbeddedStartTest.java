package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.app.config.FerryConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded SQS server starts on a thread of its own while the run opens its ledger; whichever
 * part fails, the start fails with that part's own error and leaves nothing running.
 */
class EmbeddedStartTest {

    @TempDir
    Path dir;

    @Test
    void aLedgerThatCannotOpen_failsTheStart_andTheServerStartedMeanwhileIsStopped() throws Exception {
        int port = RunParts.freePort();
        Files.writeString(dir.resolve("not-a-dir"), "a file where the ledger's folder should be");
        var runtime = new FerryRuntime(config(port, "mvstore", dir.resolve("not-a-dir/ledger.db")));

        assertThatThrownBy(runtime::start).satisfies(e -> assertThat(e.toString()).contains("ledger"));

        assertThat(startThreads()).as("the server's start is over").isZero();
        assertThat(RunParts.bindable(port)).as("the embedded server was stopped, its port is free").isTrue();
    }

    @Test // a review: each failed start left ElasticMQ's actor system running (elasticmq-scheduler-1 and the
          // dispatchers, not daemons, with a JVM shutdown hook), one more per attempt of a supervisor's restarts
    void aPortInUse_failsTheStartWithTheServersOwnError_andLeavesNoActorSystemRunning() throws Exception {
        long before = RunParts.liveThreads("elasticmq", 0); // what an earlier test's server left is given its time to end first
        try (var taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            for (int attempt = 1; attempt <= 3; attempt++) {
                var runtime = new FerryRuntime(config(taken.getLocalPort(), "memory", null)); // a runtime starts once

                assertThatThrownBy(runtime::start)
                        .as("the server's own exception, not a wrapper around it")
                        .isNotInstanceOf(java.util.concurrent.ExecutionException.class)
                        .isNotInstanceOf(java.util.concurrent.CompletionException.class);
                assertThat(startThreads()).isZero();
            }
        }

        assertThat(RunParts.liveThreads("elasticmq", before)).as("ElasticMQ threads alive after three failed starts (were %d before)", before)
                .isLessThanOrEqualTo(before);
    }

    private FerryConfig config(int port, String ledger, Path path) {
        String yaml = """
                embedded-sqs:
                  port: %d
                ledger:
                  kind: %s
                %s
                sources:
                  in:
                    sqs:
                      queue: start-test
                    format: raw
                sinks:
                  log:
                    type: log
                routes:
                  - name: all
                    to: [log]
                admin:
                  listen: off
                stats-every: off
                """.formatted(port, ledger, path == null ? "" : "  path: " + path);
        return RunParts.config(yaml);
    }

    /** Threads still starting a server, given up to 5 s to end (each ends right after its start). */
    private static long startThreads() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        long alive;
        do {
            alive = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("ferry-embedded-sqs-start") && t.isAlive()).count();
            if (alive > 0) {
                Thread.sleep(10);
            }
        } while (alive > 0 && System.nanoTime() < deadline);
        return alive;
    }
}
