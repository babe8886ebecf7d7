package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.ParkedGroup;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What `ferry groups list` says of a release: the stored state cannot tell a release that runs from one that stopped
 * half-way, and "under way" told the operator to wait for one that nothing ran (the group parked for good).
 */
class GroupTableTest {

    private static ParkedGroup group(String token, boolean closing) {
        return new ParkedGroup("orders", "A", "a2", "m-2", "rejected", Instant.EPOCH, Instant.EPOCH, 2, 0, token, 0, 0,
                closing, 1);
    }

    @Test
    void aReleaseThatBeganAndDidNotEnd_isNotSaidToBeUnderWay() {
        String table = GroupActions.table(List.of(group("t-1", false)));
        assertThat(table).doesNotContain("under way").contains("has not ended: if none is running, release it again");
    }

    @Test
    void aClosingRelease_saysTheGroupFlowsOnceWhatWentBackIsHandled() {
        assertThat(GroupActions.table(List.of(group("t-1", true)))).contains("released: flows once what was sent back is handled");
        assertThat(GroupActions.table(List.of(group(null, false)))).doesNotContain("release");
        assertThat(GroupActions.json(group("t-1", true))).containsEntry("releasing", true).containsEntry("closing", true);
        assertThat(GroupActions.json(group("t-1", false))).containsEntry("closing", false);
    }
    @Test
    void aReleaseThatDidNotFindEverythingItCounted_saysSo() {
        var released = new dev.ferry.domain.parking.GroupParker.Released(
                dev.ferry.domain.parking.GroupParker.Finish.CLOSING, 1, 0, 1);
        assertThat(GroupActions.text("A", released)).contains("1 parked message(s) counted were not in the dead-letter queue")
                .contains("that event is lost");
        assertThat(GroupActions.json(released)).containsEntry("not-found", 1L);
        assertThat(GroupActions.text("A", new dev.ferry.domain.parking.GroupParker.Released(
                dev.ferry.domain.parking.GroupParker.Finish.CLOSING, 1, 0))).doesNotContain("not in the dead-letter queue");
    }
}
