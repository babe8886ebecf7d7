package dev.ferry.domain.parking;

/**
 * What parking writes on messages: the reason a dead letter names its group by ({@link GroupParker#at},
 * {@link GroupParker#behind}), which is how a release knows the group's dead letters ({@link GroupParker#parkedWith});
 * and the mark a release's copy carries ({@link GroupParker#releaseValue}), read back by {@link #pass}.
 */
final class ParkMarks {

    /** The longest group a reason names whole: with a bounded head and the words around it, under the cut. */
    static final int MAX_WHOLE_GROUP = 7_000;

    private ParkMarks() {
    }

    /**
     * The group as reasons name it: whole, as before, up to {@link #MAX_WHOLE_GROUP}; longer, bounded as a head is
     * ({@link GroupParker#headOf}) — a dead letter's reason is cut at 8,128 characters, and a Kafka key of 9,000 was cut
     * before " parked ": no dead letter matched its group, and the release found none, for ever. (Whole while it fits:
     * an instance of the version before, releasing beside this one, still finds every dead letter.)
     */
    static String prefix(String group) {
        return wholePrefix(group.length() > MAX_WHOLE_GROUP ? GroupParker.headOf(group) : group);
    }

    /** The group named whole, as reasons written before the bounded form name it. */
    static String wholePrefix(String group) {
        return "group " + TransportText.safe(group) + " parked ";
    }

    /** The release a copy belongs to, from its {@link GroupParker#RELEASE_ATTRIBUTE} value; null when none or unreadable. */
    static GroupParker.Pass pass(String value) {
        if (value == null) {
            return null;
        }
        int hash = value.lastIndexOf('#');
        if (hash <= 0) {
            return null;
        }
        try {
            return new GroupParker.Pass(value.substring(0, hash), Long.parseLong(value.substring(hash + 1)));
        } catch (NumberFormatException e) {
            return null; // a number no release wrote: not a copy of one
        }
    }
}
