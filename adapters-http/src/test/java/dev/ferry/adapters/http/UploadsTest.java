package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
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
}
