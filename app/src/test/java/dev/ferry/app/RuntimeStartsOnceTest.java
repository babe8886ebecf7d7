package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.adapters.mvstore.MvStoreLedger;
import dev.ferry.app.config.FerryConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A runtime starts once. A start after a failed one opened the ledger, the sources and the ports again, and
 * nothing closed them: the failed start's close had run, and every close after it did nothing. Real parts: an
 * MVStore ledger in a temporary folder, an HTTP source and the admin endpoint on 127.0.0.1.
 */
class RuntimeStartsOnceTest {

    @TempDir
    Path dir;

    @Test // a review: the second start held the ledger file's lock and the source's port for the JVM's life
    void aStartAfterOneThatFailed_isRefused_andWhatTheFailedOneOpenedStaysClosed() throws Exception {
        var ledger = dir.resolve("ledger.db");
        int ingestPort = RunParts.freePort();
        long before = RunParts.liveThreads("ferry-ledger", 0); // what an earlier test's ledger left is given its time to end first
        try (var taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            var runtime = FerryAppIT.runtime(config(ledger, ingestPort, taken.getLocalPort()));
            try {
                assertThatThrownBy(runtime::start).as("the admin port is taken")
                        .hasMessageContaining(Integer.toString(taken.getLocalPort()));

                assertThatThrownBy(runtime::start).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("closed").hasMessageContaining("make another");
            } finally {
                runtime.close();
            }
        }

        assertThat(RunParts.liveThreads("ferry-ledger", before)).as("the ledger's threads alive (%d before)", before).isLessThanOrEqualTo(before);
        assertThat(RunParts.bindable(ingestPort)).as("the HTTP source's port is free").isTrue();
        assertThatCode(() -> MvStoreLedger.open(ledger).close()).as("the ledger file opens again: no lock is held on it")
                .doesNotThrowAnyException();
    }

    @Test
    void aRuntimeClosedBeforeItsStart_isNotStarted() throws Exception {
        int ingestPort = RunParts.freePort();
        var runtime = FerryAppIT.runtime(config(dir.resolve("ledger.db"), ingestPort, 0));
        runtime.close();

        assertThatThrownBy(runtime::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed").hasMessageContaining("make another");
        assertThat(RunParts.bindable(ingestPort)).as("nothing was opened: the HTTP source's port is free").isTrue();
    }

    private static FerryConfig config(Path ledger, int ingestPort, int adminPort) {
        String yaml = """
                ledger:
                  kind: mvstore
                  path: "%s"
                sources:
                  in:
                    http: {listen: "127.0.0.1:%d", auth: none}
                    format: raw
                sinks:
                  log: {type: log}
                routes:
                  - to: [log]
                admin:
                  listen: "127.0.0.1:%d"
                stats-every: off
                """.formatted(ledger, ingestPort, adminPort);
        return RunParts.config(yaml);
    }
}
