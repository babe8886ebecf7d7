package dev.ferry.app;

import dev.ferry.app.config.FerryConfig;
import java.time.Duration;
import java.util.Map;

/**
 * The admin server in a JVM of its own, for tests that need the JDK server's own settings (its connection limit)
 * without setting them for every test: prints its port, then serves until its input ends.
 */
public final class AdminServerProcess {

    private AdminServerProcess() {
    }

    public static void main(String[] args) throws Exception {
        try (var observability = new Observability(Duration.ofMillis(Long.parseLong(args[0])))) {
            observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
            System.out.println("port " + observability.serve(new FerryConfig.Address("127.0.0.1", 0), true));
            System.out.flush();
            System.in.read(); // until the test closes our input, or ends
        }
    }
}
