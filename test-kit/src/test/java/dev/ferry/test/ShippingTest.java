package dev.ferry.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

// The README's "Testing your own handlers" example, as written (ReadmeSnippetTest keeps the two the same).
class ShippingTest {
    final List<String> shipped = new CopyOnWriteArrayList<>();

    @RegisterExtension
    final HandlerHarness ferry = HandlerHarness.of((event, delivery) -> {
        var body = event.payloadAsString();
        if (body.startsWith("bad")) {
            return Outcome.reject("no such product: " + body);
        }
        shipped.add(body);
        return Outcome.done();
    });

    @Test
    void shipsWhatItCan_deadLettersTheRest() {
        ferry.send("order-1");
        ferry.send("bad-2");
        ferry.awaitDrained();                      // fails the test after 10 s, saying what was left

        assertThat(shipped).containsExactly("order-1");
        assertThat(ferry.deadLetters()).singleElement()
                .satisfies(d -> assertThat(d.reason()).contains("no such product: bad-2"));
    }
}
