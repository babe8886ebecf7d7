package dev.ferry.domain.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.Outcome;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** An outage is waited out for a while, per event, then taken for what waiting does not cure. */
class OutageTest {

    private static final Duration SECOND = Duration.ofSeconds(1);

    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - Duration.ofMinutes(1).toNanos()); // wraps meanwhile
    private final Outage outage = new Outage(Duration.ofMinutes(15), now::get);

    private void minutes(long m) {
        now.addAndGet(Duration.ofMinutes(m).toNanos());
    }

    @Test // a review: events never marked worked (dead-lettered, handled elsewhere) stayed timed for good
    void eventsWhoseWaitsAreOver_areForgotten_whenTheServiceAnswersAgain() {
        for (int i = 0; i < 1_000; i++) {
            outage.failed("gone-" + i, "broker unreachable", SECOND);
        }
        minutes(10);
        outage.failed("recent", "broker unreachable", SECOND);
        minutes(6); // the 1,000 failed 16 minutes ago, past the patience: their waits are over
        outage.worked("other");
        assertThat(outage.timed()).as("only the recent one is still timed").isEqualTo(1);
        outage.worked("recent");
        assertThat(outage.timed()).isZero();
    }

    @Test // a review: a service down past the patience — every new event dead-lettered left its key, none ever worked,
          // and 100,000 keys stayed timed until the service answered again
    void eventsWhoseWaitsAreOver_areForgotten_whileTheServiceStaysDown() {
        for (int i = 0; i < 1_000; i++) {
            outage.failed("gone-" + i, "broker unreachable", SECOND);
            minutes(1); // each met once, then gone: to the DLQ, past the patience
        }
        assertThat(outage.timed()).as("only those met within the patience and a few more; service still down")
                .isLessThan(100);
    }

    @Test // a review: told to wait an hour (a 413 or 503 with Retry-After: 3600), an event came back after the patience
          // had passed since its last failure, met the outage anew, and was waited out again: for ever, its group held
    void anEventToldToWaitLongerThanThePatience_isStillTimedWhenItComesBack_andSpendsAttemptsPastThePatience() {
        var hour = Duration.ofHours(1);
        assertThat(outage.failed("big", "413 Content Too Large", hour)).isEqualTo(Outcome.throttled(hour));
        for (int i = 0; i < 2; i++) {
            minutes(30);
            outage.failed("other-" + i, "503", SECOND); // the sink's own run of failures starts again meanwhile
            outage.worked("other-" + i); // and another event gets through: the waits that are over are forgotten
        }
        minutes(1);
        assertThat(outage.failed("big", "413 Content Too Large", hour)).as("back after its hour, past the patience")
                .isInstanceOfSatisfying(Outcome.Retry.class, r -> assertThat(r.reason()).contains("413 Content Too Large"));

        minutes(60 + 16); // past its wait and then the patience, with nothing from it: a new wait if it comes back
        outage.worked("x");
        assertThat(outage.timed()).isZero();
        assertThat(outage.failed("big", "413 Content Too Large", hour)).isEqualTo(Outcome.throttled(hour));
    }

    @Test // a review: each key an outage met was kept whole; an id field of 256 Ki characters held 1 GiB per 4,000 events
    void longKeys_areNotKeptWhole_yetEachIsStillTimedAndEnded() {
        var keys = new java.util.ArrayList<java.lang.ref.WeakReference<String>>();
        for (int i = 0; i < 50; i++) {
            String key = i + "k".repeat(100_000);
            keys.add(new java.lang.ref.WeakReference<>(key));
            outage.failed(key, "broker unreachable", SECOND);
        }
        assertThat(outage.timed()).isEqualTo(50);
        assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(10), () -> {
            System.gc();
            return keys.stream().allMatch(k -> k.get() == null);
        })).as("no long key kept by the outage").isTrue();

        // the patience is spent for a long key as for a short one, and an answer for it ends its wait
        String again = "7" + "k".repeat(100_000);
        for (int i = 0; i < 3; i++) {
            minutes(4);
            assertThat(outage.failed(again, "broker unreachable", SECOND)).isEqualTo(Outcome.throttled(SECOND));
        }
        minutes(4);
        assertThat(outage.failed(again, "broker unreachable", SECOND)).isInstanceOf(Outcome.Retry.class);
        outage.worked("7" + "k".repeat(100_000));
        assertThat(outage.failed(again, "broker unreachable", SECOND)).isEqualTo(Outcome.throttled(SECOND));
    }

    @Test
    void anEvent_isWaitedOutForThePatience_thenSpendsAttempts_andAnAnswerForItEndsItsWait() {
        assertThat(outage.holdingBack()).isEmpty();
        assertThat(outage.failed("e1", "broker unreachable", SECOND)).isEqualTo(Outcome.throttled(SECOND));
        assertThat(outage.holdingBack()).contains("broker unreachable");
        minutes(14);
        assertThat(outage.failed("e1", "broker unreachable", SECOND)).isInstanceOf(Outcome.Throttled.class);
        minutes(1);
        assertThat(outage.failed("e1", "topic t not in metadata", SECOND)).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("topic t not in metadata").contains("15m"));
        assertThat(outage.holdingBack()).contains("topic t not in metadata");

        outage.worked("e1");
        assertThat(outage.holdingBack()).isEmpty();
        assertThat(outage.failed("e1", "broker unreachable", SECOND)).as("a new outage, waited out again")
                .isInstanceOf(Outcome.Throttled.class);
    }

    @Test // a review: the health endpoints, open to anyone who reaches them, showed the service's words (an account, a user)
    void inBrief_theOutageIsToldWithoutTheServicesWords_untilItEnds() {
        assertThat(outage.holdingBackInBrief()).isEmpty();
        outage.failed("e1", "queue q: AccessDenied: User arn:aws:iam::123456789012:user/ops is not authorized",
                "queue q: AccessDenied", SECOND);
        assertThat(outage.holdingBack()).hasValueSatisfying(p -> assertThat(p).contains("123456789012"));
        assertThat(outage.holdingBackInBrief()).contains("queue q: AccessDenied");
        outage.failed("e2", "broker unreachable", SECOND);
        assertThat(outage.holdingBackInBrief()).as("told whole when no brief is given").contains("broker unreachable");
        outage.worked("e1");
        outage.worked("e2");
        assertThat(outage.holdingBackInBrief()).isEmpty();
    }

    @Test
    void otherEventsGettingThrough_doNotStartTheWaitOfOneThatKeepsFailing() {
        // one partition down, the others up: its events failed for ever, every other event's success starting their
        // wait again
        for (int minute = 0; minute < 15; minute++) {
            assertThat(outage.failed("on-the-down-partition", "NotEnoughReplicas", SECOND)).isInstanceOf(Outcome.Throttled.class);
            outage.worked("elsewhere-" + minute);
            assertThat(outage.holdingBack()).as("still one waiting").contains("NotEnoughReplicas");
            minutes(1);
        }
        assertThat(outage.failed("on-the-down-partition", "NotEnoughReplicas", SECOND)).isInstanceOf(Outcome.Retry.class);
    }

    @Test
    void anOutageIsReportedWhileRecent_notForAnEventThatWentElsewhere() {
        outage.failed("e1", "broker unreachable", SECOND); // e1 then handled by another instance: never seen again
        minutes(1);
        now.addAndGet(1);
        assertThat(outage.holdingBack()).isEmpty();
    }

    @Test
    void noPatience_spendsAnAttemptAtOnce_andANegativeOneIsRefused() {
        for (long at : new long[] {0, 2, 3, -8}) { // whatever nanoTime says, even or odd
            now.set(at);
            var impatient = new Outage(Duration.ZERO, now::get);
            assertThat(impatient.failed("e", "down", SECOND)).as("at %d", at).isInstanceOf(Outcome.Retry.class);
        }
        assertThatThrownBy(() -> new Outage(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theEventsTimed_areBounded_theOneThatFailedLongestAgoForgotten() {
        outage.failed("e0", "down", SECOND);
        for (int i = 1; i <= Outage.MAX_EVENTS; i++) {
            outage.failed("e" + i, "down", SECOND);
            if (i == Outage.MAX_EVENTS / 2) {
                outage.failed("e0", "down", SECOND); // e0 still failing: kept, e1 is now the one that failed longest ago
            }
        }
        minutes(1);
        outage.worked("elsewhere"); // the sink writes: only each event's own wait counts
        minutes(14);
        assertThat(outage.failed("e1", "down", SECOND)).as("forgotten, its wait starts again").isInstanceOf(Outcome.Throttled.class);
        assertThat(outage.failed("e0", "down", SECOND)).as("kept").isInstanceOf(Outcome.Retry.class);
        assertThat(outage.failed("e" + Outage.MAX_EVENTS, "down", SECOND)).isInstanceOf(Outcome.Retry.class);
    }

    @Test // a review: an event past its patience was remembered until an answer for it, so sent again days later (a
          // redrive of its dead-letter queue) it met the next blip with no patience at all
    void anEventNotSeenFailingForLongerThanThePatience_isWaitedOutAgain() {
        for (int minute = 0; minute < 15; minute++) {
            assertThat(outage.failed("e1", "down", SECOND)).isInstanceOf(Outcome.Throttled.class);
            minutes(1);
        }
        assertThat(outage.failed("e1", "down", SECOND)).isInstanceOf(Outcome.Retry.class); // then dead-lettered
        outage.worked("other"); // the sink back
        minutes(60 * 24);
        assertThat(outage.failed("e1", "leader moving", SECOND)).as("redriven a day later").isInstanceOf(Outcome.Throttled.class);
    }

    @Test // a review: a wait timed per event only, with the intake paused while any event is Throttled, let a sink that
          // never comes back take in one window of events per patience (a backlog of 100,000 in windows of 100: 250 hours)
    void anEventArrivingWhenNothingHasBeenWrittenForThePatience_spendsItsAttemptsAtOnce() {
        for (int minute = 0; minute <= 15; minute++) {
            outage.failed("window-1", "topic t not in metadata", SECOND);
            minutes(1);
        }
        assertThat(outage.failed("window-2", "topic t not in metadata", SECOND)).isInstanceOfSatisfying(Outcome.Retry.class,
                r -> assertThat(r.reason()).contains("16m"));
        outage.worked("window-3");
        assertThat(outage.failed("window-4", "topic t not in metadata", SECOND)).as("a write ends the run")
                .isInstanceOf(Outcome.Throttled.class);
    }

    @Test
    void aFailureAfterAQuietMinute_startsANewRun_notTheOldOnesTail() {
        outage.failed("e1", "down", SECOND); // then e1 went elsewhere (another instance), nothing failed or worked since
        minutes(30);
        assertThat(outage.failed("e2", "down", SECOND)).isInstanceOf(Outcome.Throttled.class);
    }
}
