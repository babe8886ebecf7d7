package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UploadsTest {

    @Test // thirty-sixth round: the default budget was a quarter of the heap for each source: two sources took half of
          // it, four the whole, to senders who need no valid signature to hold it (a body read before its signature)
    void theDefaultBudget_isAQuarterOfTheHeap_sharedByEverySourceThatSetsNoneOfItsOwn() {
        int body = 32 << 20;
        var first = new Uploads(100_000, -1, body);
        var second = new Uploads(100_000, -1, body);
        var own = new Uploads(100_000, 3L * body, body);
        var taken = new ArrayList<Integer>();
        try {
            for (int t; (t = first.take(body)) > 0; ) {
                taken.add(t);
            }
            assertThat((long) taken.size() * body).as("the first source holds up to the quarter")
                    .isLessThanOrEqualTo(Uploads.SHARED_BUDGET).isGreaterThan(Uploads.SHARED_BUDGET - 2L * body);
            assertThat(second.take(body)).as("the second finds the quarter taken").isEqualTo(Uploads.TOO_MUCH);
            int mine = own.take(body);
            assertThat(mine).as("a source with a budget of its own is apart").isPositive();
            own.release(mine);
            first.release(taken.removeLast());
            int next = second.take(body);
            assertThat(next).as("room again once a body is given back").isPositive();
            second.release(next);
        } finally {
            taken.forEach(first::release);
        }
    }

    @Test // round 51: answers took from the whole budget, and each 64 KiB of one may take readTimeout to be read: a few
          // slow but steady readers of big answers held all of it for minutes, and every upload was answered 503
    void answers_holdAtMostHalfTheBudget_andBodiesStillGetTheRest() {
        var uploads = new Uploads(100, 1_000 * 1024L, 100_000); // 1,000 KiB of its own; bodies of 98 KiB at most
        int answerBytes = 99 * 1024 - 1; // charged 99 KiB

        List<Uploads.Held> answers = takeAnswers(uploads, answerBytes);
        assertThat(answers).as("five of 99 KiB fill the half, but for a compact answer's KiB; past it one is sent compact")
                .hasSize(5);
        var bodies = new ArrayList<Integer>();
        for (int t; bodies.size() < 20 && (t = uploads.take(100_000)) > 0; ) {
            bodies.add(t);
        }
        assertThat(bodies).as("bodies still get the other half: five of 98 KiB in the 505 left").hasSize(5);

        var once = answers.removeFirst();
        once.release();
        once.release(); // given back once: twice, the share (and the budget) had grown by 99 KiB for good
        var again = uploads.answering(answerBytes);
        assertThat(again).as("the room of the one given back").isNotNull();
        assertThat(uploads.answering(answerBytes)).as("and no more").isNull();
        answers.add(again);

        // the budget full of bodies, an answer that finds room in the share but not in the budget holds nothing of it
        bodies.forEach(uploads::release);
        answers.forEach(Uploads.Held::release);
        var filling = new ArrayList<Integer>();
        for (int t; filling.size() < 20 && (t = uploads.take(100_000)) > 0; ) {
            filling.add(t);
        }
        assertThat(filling).as("bodies may take the whole budget when no answer holds it").hasSize(10);
        assertThat(uploads.answering(answerBytes)).as("no room in the budget").isNull();
        filling.forEach(uploads::release);
        assertThat(takeAnswers(uploads, answerBytes)).as("the share left whole by the answers refused").hasSize(5);

        // at the least budget half is less than the compact answer to the largest request: that one still fits beside
        // a body at the limit, or a lone batch is answered only its counts
        var least = new Uploads(10, 1_024, 4_096, 200);
        assertThat(least.take(4_096)).isPositive();
        var small = least.answering(1_000);
        assertThat(small).as("a share of one compact answer keeps no room beside it: a whole one that fits goes whole")
                .isNotNull();
        small.release();
        assertThat(least.answeringCompact((int) IngestAnswers.compactBytes(200))).isNotNull();
    }

    @Test // a review of round 51: once whole answers had filled the answers' share, a later request's compact answer
          // was refused too, and its client was told only its counts, no results[], with half the budget idle
    void wholeAnswersThatFillTheShare_leaveRoomForACompactAnswer() {
        var uploads = new Uploads(100, 1_000 * 1024L, 100_000, 1_000); // a share of 500 KiB; batches of 1,000 events
        int compact = (int) IngestAnswers.compactBytes(1_000); // charged 58 KiB

        List<Uploads.Held> whole = takeAnswers(uploads, 100 * 1024 - 1); // of 100 KiB each, until one is refused
        var compactOne = uploads.answeringCompact(compact);

        assertThat(compactOne).as("a compact answer beside %d whole ones", whole.size()).isNotNull();
        assertThat(whole).as("four of 100 KiB: a fifth would have left no room for a compact answer").hasSize(4);
        assertThat(uploads.answeringCompact(compact)).as("one compact answer's room, not more").isNull();
        compactOne.release();
        whole.forEach(Uploads.Held::release);
        assertThat(takeAnswers(uploads, 100 * 1024 - 1)).as("the share given back whole").hasSize(4);
    }

    @Test // a review of round 51: a source on the shared budget whose compact answer to its largest request was more
          // than half of it got a budget of its own, a whole quarter of the heap beside the one the other sources share
    void aSourceWhoseCompactAnswerIsOverHalfTheSharedBudget_staysOnTheSharedBudget() {
        long perEvent = IngestAnswers.compactBytes(1) - IngestAnswers.compactBytes(0);
        int events = (int) (Uploads.SHARED_BUDGET * 3 / 4 / perEvent); // a compact answer of three quarters of it
        assertThat(IngestAnswers.compactBytes(events)).as("more than half the shared budget, less than all of it")
                .isGreaterThan(Uploads.SHARED_BUDGET / 2 + 1024).isLessThan(Uploads.SHARED_BUDGET - 4096);
        var uploads = new Uploads(10, -1, 1_024, events);
        int before = Uploads.sharedKibLeft();

        int body = uploads.take(1_000);
        var answer = uploads.answering(10 * 1024 - 1);
        try {
            assertThat(body).isPositive();
            assertThat(answer).as("a whole answer that fits: its share is one compact answer's, no room kept").isNotNull();
            assertThat(Uploads.sharedKibLeft()).as("a body's KiB and an answer's 10, taken from the shared budget")
                    .isEqualTo(before - body - 10);
        } finally {
            if (body > 0) {
                uploads.release(body);
            }
            if (answer != null) {
                answer.release();
            }
        }
        assertThat(Uploads.sharedKibLeft()).as("given back to it").isEqualTo(before);
    }

    /** Answers of {@code bytes} taken until one finds no room (20 at most). */
    private static List<Uploads.Held> takeAnswers(Uploads uploads, int bytes) {
        var taken = new ArrayList<Uploads.Held>();
        for (Uploads.Held held; taken.size() < 20 && (held = uploads.answering(bytes)) != null; ) {
            taken.add(held);
        }
        return taken;
    }

    @Test // a review: each source on the shared budget left only its own compact answer's room, and a source of fifty
          // events filled the answers' share to four KiB free: another's compact answer to a thousand was refused
    void sourcesOnTheSharedBudget_leaveRoomForTheLargestCompactAnswerAmongThem() {
        var small = new Uploads(10, -1, 1024, 50);
        var large = new Uploads(10, -1, 1024, 1000);
        var held = new java.util.ArrayList<Uploads.Held>();
        try {
            for (Uploads.Held h; (h = small.answering(1024 * 1024)) != null; ) {
                held.add(h);
            }
            for (Uploads.Held h; (h = small.answering(1000)) != null; ) {
                held.add(h);
            }
            assertThat(held).as("whole answers filled the share").isNotEmpty();

            var compact = large.answeringCompact((int) IngestAnswers.compactBytes(1000));

            assertThat(compact).as("the largest compact answer still fits").isNotNull();
            compact.release();
        } finally {
            held.forEach(Uploads.Held::release);
        }
    }
}
