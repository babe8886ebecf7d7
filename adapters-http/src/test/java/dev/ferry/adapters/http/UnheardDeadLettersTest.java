package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Disposition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** What the HTTP source remembers of dead letters that came after their request was answered. */
class UnheardDeadLettersTest {

    private static final String BODY = "{\"id\":\"a\"}";

    private final AtomicLong now = new AtomicLong();
    private final UnheardDeadLetters unheard = new UnheardDeadLetters(now::get);

    @Test
    void aDeadLetterUnheard_isToldToTheResendOfItsKeyAndBodyOnly_asTheAnswerItsRequestWouldHaveGiven() {
        var dead = Disposition.deadLetter("customer a does not exist");
        unheard.settled(item("k-1", BODY, true, 1), dead);

        var told = unheard.answer(new String[] {"k-1"}, one(BODY, false));
        var heard = item("k-1", BODY, false, 1);
        heard.settle(dead, new Semaphore(0));
        var answer = IngestAnswers.answer(heard.request, false, false, Duration.ofSeconds(30));
        assertThat(told).as("the same 422, body and headers").isEqualTo(answer);
        assertThat(told.status()).isEqualTo(422);

        assertThat(unheard.answer(new String[] {"k-1"}, one("{\"id\":\"b\"}", false))).as("another body").isNull();
        assertThat(unheard.answer(new String[] {"k-2"}, one(BODY, false))).as("another key").isNull();
        assertThat(unheard.answer(new String[] {"k-1"}, one(BODY, true))).as("an array of one (a last look)")
                .isEqualTo(told);
        assertThat(unheard.answer(new String[] {"k-1", "k-1b"}, new JsonItems.Split.Items(
                List.of(BODY.getBytes(StandardCharsets.UTF_8), BODY.getBytes(StandardCharsets.UTF_8)), true)))
                .as("a batch").isNull();
        assertThat(unheard.answer(null, one(BODY, false))).as("no key").isNull();
    }

    @Test
    void onlyADeadLetterItsClientNeverHeard_underAKey_ofOneEvent_isNoted() {
        unheard.settled(item("heard", BODY, false, 1), Disposition.deadLetter("heard"));
        unheard.settled(item(null, BODY, true, 1), Disposition.deadLetter("no key"));
        unheard.settled(item("batch#d", BODY, true, 2), Disposition.deadLetter("in a batch"));
        unheard.settled(item("retried", BODY, true, 1), Disposition.RELEASE);
        assertThat(unheard.size()).isZero();
    }

    @Test
    void aCopyDoneSince_forgetsIt() {
        unheard.settled(item("k-1", BODY, true, 1), Disposition.deadLetter("failed 2 time(s)"));
        unheard.settled(item("k-1", "{\"id\":\"b\"}", true, 1), Disposition.ACK);
        assertThat(unheard.size()).as("another body's ack").isEqualTo(1);
        unheard.settled(item("k-1", BODY, false, 1), Disposition.ACK);
        assertThat(unheard.answer(new String[] {"k-1"}, one(BODY, false))).isNull();
    }

    @Test
    void atMost10000Keys_eachForAnHour() {
        for (int i = 0; i <= UnheardDeadLetters.MAX_KEYS; i++) {
            unheard.settled(item("k-" + i, BODY, true, 1), Disposition.deadLetter("r"));
        }
        assertThat(unheard.size()).isEqualTo(UnheardDeadLetters.MAX_KEYS);
        assertThat(unheard.answer(new String[] {"k-0"}, one(BODY, false))).as("noted first, forgotten first").isNull();
        assertThat(unheard.answer(new String[] {"k-1"}, one(BODY, false))).isNotNull();

        now.addAndGet(UnheardDeadLetters.KEPT.toNanos() + 1);
        assertThat(unheard.answer(new String[] {"k-1"}, one(BODY, false))).isNull();
        assertThat(unheard.size()).isZero();
    }

    @Test
    void aLongReason_isKeptCut() {
        unheard.settled(item("k-1", BODY, true, 1), Disposition.deadLetter("x".repeat(5_000)));
        var json = unheard.answer(new String[] {"k-1"}, one(BODY, false)).json();
        assertThat(json).contains("x".repeat(UnheardDeadLetters.MAX_REASON) + "…").doesNotContain("x".repeat(2_001));
    }

    /** The first of a request of {@code size} events under {@code key}, its request answered before or not. */
    private static IngestRequest.Item item(String key, String body, boolean answered, int size) {
        var request = new IngestRequest(size, false);
        for (int i = 0; i < size; i++) {
            var delivery = new Delivery(key == null ? "r#" + i : key, body.getBytes(StandardCharsets.UTF_8), Map.of(),
                    1, Instant.EPOCH, null, key, "in", null);
            request.items[i] = new IngestRequest.Item(request, i, delivery);
        }
        request.abandoned = answered;
        return request.items[0];
    }

    private static JsonItems.Split.Items one(String body, boolean batch) {
        return new JsonItems.Split.Items(List.of(body.getBytes(StandardCharsets.UTF_8)), batch);
    }
}
