package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The JDK's HTTP/2 client keeps one connection per host and fails a request at once, unsent, once that connection's
 * streams reach the server's limit (128 on common proxies): a {@code max-concurrent} above it had the extra requests
 * taken for an outage — the healthy endpoint reported down, its breaker opened, events held as if it were.
 */
class StreamsFullTest {

    private final SinkAnswers answers = new SinkAnswers("api", Duration.ofSeconds(10), Clock.systemUTC(),
            Duration.ofSeconds(1), HttpSink.AuthFailures.values()[0], Duration.ofMinutes(5));
    private final URI target = URI.create("https://api.example/events");

    @Test
    void theServersStreamLimitReached_isTheClientsOwnBackPressure_notAnOutage() {
        for (Throwable e : new Throwable[] {new IOException("too many concurrent streams"),
                new java.util.concurrent.CompletionException(new IOException("too many concurrent streams"))}) {
            var attempt = answers.failed("POST " + target, target, e);
            assertThat(attempt.unreachable()).as("not an outage: %s", e).isFalse();
            assertThat(attempt).as("not tried again at once, in a loop against the same limit").isInstanceOf(Attempt.Final.class);
            assertThat(attempt.outcome()).isInstanceOf(Outcome.Throttled.class);
        }
        var other = answers.failed("POST " + target, target, new IOException("Connection reset"));
        assertThat(other.unreachable()).as("any other I/O failure is still an outage").isTrue();
    }
}
