package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AdminSlotsTest {

    @Test
    void aNewcomerCutsOffTheOldestWaiting_neverOneAtWork_andTheThreadsStayWithinTwiceTheSlots() {
        var slots = new AdminSlots(1);
        var cuts = new AtomicInteger();
        var first = slots.take();
        first.running(() -> cuts.incrementAndGet() > 0); // waits on its client: may be cut off
        var second = slots.take();
        assertThat(second).as("room made by cutting off the first").isNotNull();
        assertThat(cuts).hasValue(1);
        second.running(() -> true);
        assertThat(slots.take()).as("the first cut off but not yet ended: no more threads than twice the slots").isNull();

        first.letGo(); // its thread ended
        var third = slots.take();
        assertThat(third).as("room again, the second cut off").isNotNull();
        var atWork = new AtomicBoolean(true);
        third.running(() -> !atWork.get()); // its handler at work: never cut off
        second.letGo();
        assertThat(slots.take()).as("the only one left is at work: refused").isNull();
        third.letGo();
        assertThat(slots.take()).as("free once it ended").isNotNull();
    }
}
