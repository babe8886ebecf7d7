package dev.ferry.domain.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.ParkedGroup;
import dev.ferry.domain.testing.MutableClock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link GroupParking} store keeps: a compare-and-set register per (source,
 * group) that instances share. An implementation's test extends this and supplies a store.
 */
public abstract class GroupParkingContract {

    protected MutableClock clock;
    protected GroupParking store;

    /** A store with no parked group of the sources this contract uses (fresh names each test). */
    protected abstract GroupParking newStore(MutableClock clock);

    private String source;

    @BeforeEach
    void setUpStore() {
        clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
        store = newStore(clock);
        source = "orders-" + UUID.randomUUID();
    }

    private ParkedGroup parked(String group, long version) {
        return new ParkedGroup(source, group, "a2", "m-2", "a2 fails: HTTP 500", clock.instant(), clock.instant(), 1, 0, null,
                0, 0, false, version);
    }

    @Test
    void aGroupNeverParked_isNotThere() {
        assertThat(store.parkedGroup(source, "A")).isEmpty();
    }

    @Test
    void aStoredGroup_readsBackWhole_andIsListed() {
        var state = new ParkedGroup(source, "A|with:odd/chars", "key 1", "m-1", "reason: \"quoted\" ünïcode", clock.instant(),
                clock.instant().plusSeconds(5), 7, 3, "token-1", 4, 2, true, 9);
        assertThat(store.replaceParkedGroup(null, state)).isTrue();

        assertThat(store.parkedGroup(source, "A|with:odd/chars")).contains(state);
        assertThat(store.parkedGroups()).contains(state);
        assertThat(store.parkedGroup(source, "B")).isEmpty();
        assertThat(store.parkedGroup(source + "-other", "A|with:odd/chars")).as("per source").isEmpty();
    }

    @Test // hundreds of thousands parked by a bad deploy: a console must not read them all on each refresh
    void aListingOfSome_readsAtMostTheLimit_andCountsThemAll() {
        for (int i = 0; i < 5; i++) {
            assertThat(store.replaceParkedGroup(null, parked("G" + i, 1))).isTrue();
        }
        var all = store.parkedGroups();
        assertThat(all).hasSizeGreaterThanOrEqualTo(5);

        var some = store.parkedGroups(2);
        assertThat(some.groups()).hasSize(2);
        assertThat(all).containsAll(some.groups());
        assertThat(some.total()).isEqualTo(all.size());
        assertThat(some.complete()).isFalse();

        var none = store.parkedGroups(0);
        assertThat(none.groups()).isEmpty();
        assertThat(none.total()).isEqualTo(all.size());

        var every = store.parkedGroups(Integer.MAX_VALUE);
        assertThat(every.groups()).containsExactlyInAnyOrderElementsOf(all);
        assertThat(every.complete()).isTrue();
    }

    @Test
    void replace_comparesTheVersion_andCreatesOnlyWhatIsNotThere() {
        var first = parked("A", 1);
        assertThat(store.replaceParkedGroup(null, first)).isTrue();
        assertThat(store.replaceParkedGroup(null, parked("A", 1))).as("already there").isFalse();

        var second = parked("A", 2);
        assertThat(store.replaceParkedGroup(first, second)).isTrue();
        assertThat(store.replaceParkedGroup(first, parked("A", 3))).as("a stale expectation").isFalse();
        assertThat(store.parkedGroup(source, "A")).contains(second);

        assertThat(store.replaceParkedGroup(first, null)).as("a stale removal").isFalse();
        assertThat(store.replaceParkedGroup(second, null)).isTrue();
        assertThat(store.parkedGroup(source, "A")).isEmpty();
        assertThat(store.replaceParkedGroup(second, null)).as("nothing left to remove").isFalse();
    }

    @Test
    void parksCountedByManyInstancesAtOnce_areEachCountedOnce() throws Exception {
        var parker = new GroupParker(store, clock);
        int threads = 4;
        int each = 10;
        Concurrently.together(threads, n -> {
            for (int i = 0; i < each; i++) {
                parker.park(source, "A", "k" + n + "-" + i, "m" + n + "-" + i, "fails", null, false);
            }
        });
        var state = store.parkedGroup(source, "A").orElseThrow();
        assertThat(state.parked()).isEqualTo(threads * each);
        assertThat(List.of(state.version())).allMatch(v -> v == threads * each);
    }

    @Test
    void aGroupParkedAtAHugeEventKey_isStored_withAHeadThatStillTellsItsKeyApart() {
        // 140,000 CJK characters (420 KB in UTF-8) as the event key: a store with an item limit (DynamoDB: 400 KB)
        // refused the group, and the message was held as if the ledger were down, for ever
        var parker = new GroupParker(store, clock);
        String huge = "鍵".repeat(140_000);
        var parked = parker.park(source, "L", huge, "m-1", "fails", null, false);

        var stored = store.parkedGroup(source, "L").orElseThrow();
        assertThat(stored).isEqualTo(parked);
        assertThat(stored.head().length()).isLessThan(GroupParker.MAX_HEAD + 100);
        assertThat(stored.head()).startsWith("鍵".repeat(100)).isEqualTo(GroupParker.headOf(huge));
        assertThat(GroupParker.isHead(GroupParker.at(stored), stored)).isTrue();
        assertThat(GroupParker.headOf(huge + "x")).as("another long key, another head").isNotEqualTo(stored.head());
    }
}
