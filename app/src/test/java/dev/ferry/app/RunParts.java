package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;

/** What tests of a run's start and stop look at: a configuration read as the app reads it, ports, threads left alive. */
final class RunParts {

    private RunParts() {
    }

    /** {@code yaml} read as {@code ferry run} reads it, with no environment; fails the test when it is refused. */
    static FerryConfig config(String yaml) {
        var result = ConfigReader.parse("ferry.yaml", yaml, Map.<String, String>of()::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).as(result.toString()).isInstanceOf(ConfigReader.Result.Ok.class);
        return ((ConfigReader.Result.Ok) result).config();
    }

    static int freePort() throws IOException {
        try (var s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static boolean bindable(int port) {
        try (var s = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The live threads whose names start with {@code prefix}, given up to 10 s to come down to {@code atMost}. */
    static long liveThreads(String prefix, long atMost) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        long alive;
        do {
            alive = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith(prefix) && t.isAlive()).count();
            if (alive > atMost) {
                Thread.sleep(20);
            }
        } while (alive > atMost && System.nanoTime() < deadline);
        return alive;
    }
}
