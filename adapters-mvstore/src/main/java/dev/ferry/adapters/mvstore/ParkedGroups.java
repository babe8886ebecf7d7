package dev.ferry.adapters.mvstore;

import dev.ferry.domain.parking.ParkedGroup;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * How {@link MvStoreLedger} writes a {@link ParkedGroup} in one map value: each field in turn,
 * strings length-prefixed ({@code 5:hello}) so that no character in a group, key or reason can
 * break the record.
 */
final class ParkedGroups {

    private ParkedGroups() {
    }

    /** At most {@code limit} of the groups in {@code map} (its values), counted all by its size. */
    static dev.ferry.domain.parking.ParkedGroupListing some(java.util.Map<String, String> map, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + limit);
        }
        long total = map.size();
        var some = new ArrayList<ParkedGroup>((int) Math.min(limit, Math.min(total, 1_024)));
        for (var it = map.values().iterator(); some.size() < limit && it.hasNext(); ) {
            some.add(decode(it.next()));
        }
        return new dev.ferry.domain.parking.ParkedGroupListing(some, Math.max(total, some.size()));
    }

    static String key(String source, String group) {
        return source.length() + ":" + source + group;
    }

    static String encode(ParkedGroup p) {
        var out = new StringBuilder(128);
        LengthPrefixed.append(out, p.source(), p.group(), p.head(), p.headMessageId(), p.reason(), p.releaseToken());
        for (long n : new long[] {p.since().toEpochMilli(), p.parked(), p.moved(), p.redriven(), p.passed(),
                p.closing() ? 1 : 0, p.version(), p.lastParked().toEpochMilli()}) {
            out.append(n).append(';');
        }
        return out.toString();
    }

    static ParkedGroup decode(String value) {
        int[] cursor = {0};
        var strings = LengthPrefixed.read(value, cursor, 6);
        int at = cursor[0];
        List<Long> numbers = new ArrayList<>(8);
        while (at < value.length()) {
            int semi = value.indexOf(';', at);
            numbers.add(Long.parseLong(value, at, semi, 10));
            at = semi + 1;
        }
        var since = Instant.ofEpochMilli(numbers.get(0));
        return new ParkedGroup(strings.get(0), strings.get(1), strings.get(2), strings.get(3), strings.get(4), since,
                numbers.size() > 7 ? Instant.ofEpochMilli(numbers.get(7)) : since, numbers.get(1), numbers.get(2),
                strings.get(5), numbers.get(3), numbers.get(4), numbers.get(5) == 1, numbers.get(6));
    }
}
