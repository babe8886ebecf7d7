package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The warning shared by the HTTP source's refusals and its header bound. */
class RateLimitedWarningTest {

    @Test
    void whileALineIsBeingWritten_othersAreCounted_andSaidWithTheNext() {
        var said = new ArrayList<Long>();
        var held = new ArrayList<Runnable>();
        var warning = new RateLimitedWarning(Duration.ZERO, held::add); // due every time; written when run
        warning.count(1, total -> said.add(total));
        warning.count(2, total -> said.add(total)); // the first line not yet written: counted
        warning.count(3, total -> said.add(total));
        assertThat(held).hasSize(1);
        held.get(0).run();
        warning.count(4, total -> said.add(total));
        held.get(1).run();
        assertThat(said).containsExactly(1L, 9L);
    }

    @Test
    void aLineWithNoThreadToWriteIt_isSaidWithTheNext_andALogThatThrowsLosesOnlyItsLine() {
        var refuse = new AtomicBoolean(true);
        var said = new ArrayList<Long>();
        var warning = new RateLimitedWarning(Duration.ZERO, r -> {
            if (refuse.get()) {
                throw new RejectedExecutionException("closing");
            }
            r.run();
        });
        warning.count(5, said::add);
        refuse.set(false);
        warning.count(1, said::add);
        warning.count(1, total -> {
            throw new IllegalStateException("log broken " + total);
        });
        warning.count(2, said::add);
        assertThat(said).as("the refused line's 5 said with the next; the thrown line's 1 lost").containsExactly(6L, 2L);
    }

    @Test // a review: each line's flag was made after the one that says a line is being written was set, outside the
          // try: a heap too short for it (an OutOfMemoryError) threw out of count, and out of HttpRefusals.count, and
          // left that one set for good — every later warning (refusals of credentials, connections with no deadline,
          // header cut-offs) counted and never said
    void aLineWhoseFlagCannotBeMade_throwsNothing_andIsSaidWithTheNext() {
        var thrown = new AtomicBoolean();
        var said = new ArrayList<Long>();
        var warning = new RateLimitedWarning(Duration.ZERO, Runnable::run, () -> {
            if (thrown.compareAndSet(false, true)) {
                throw new OutOfMemoryError("test");
            }
            return new AtomicBoolean();
        });
        assertThatCode(() -> warning.count(5, said::add)).as("never throws").doesNotThrowAnyException();
        assertThat(thrown).as("the first line's flag could not be made").isTrue();
        warning.count(1, said::add);
        warning.count(2, said::add);
        assertThat(said).as("the unmade line's 5 said with the next, and the one after it").containsExactly(6L, 2L);
    }
}
