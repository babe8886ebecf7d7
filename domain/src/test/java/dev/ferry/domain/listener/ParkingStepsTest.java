package dev.ferry.domain.listener;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.ParkedGroup;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ParkingStepsTest {

    /** A parked-group store that is down. */
    private static final GroupParking DOWN = new GroupParking() {
        @Override
        public Optional<ParkedGroup> parkedGroup(String source, String group) {
            throw new IllegalStateException("store down");
        }

        @Override
        public boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next) {
            throw new IllegalStateException("store down");
        }

        @Override
        public List<ParkedGroup> parkedGroups() {
            throw new IllegalStateException("store down");
        }
    };

    @Test // it said a release would end it: that release found nothing to move and left the group closing, for good
    void aPassNotRecordedAtAStop_warnsWhatEndsTheGroupsPark() {
        var steps = new ParkingSteps(new GroupParker(DOWN, Clock.systemUTC()), "orders");
        var delivery = new Delivery("m-7", new byte[0], Map.of(GroupParker.RELEASE_ATTRIBUTE,
                GroupParker.releaseValue("t-1", 3)), 1, Instant.EPOCH, "g-1", null, "orders", null);
        var item = new InFlight(delivery, List.of(), null, "g-1", Instant.MAX, Instant.MAX);
        item.releaseToken = "t-1";
        item.releaseNumber = 3;
        try (var log = new CapturedLog()) {
            steps.passedQuietly(item);
            assertThat(log.lines).singleElement().asString()
                    .contains("could not record that released message m-7 of group g-1 was handled", "store down")
                    .contains("a release, even with --give-up-missing, does not end it")
                    .contains("once a new message of the group parks behind it",
                            "and ferry groups release sends that one back")
                    .doesNotContain("until it is released again");
        }
        assertThat(item.passRecorded).isFalse();
    }
}
