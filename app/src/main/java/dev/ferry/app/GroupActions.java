package dev.ferry.app;

import dev.ferry.adapters.kafka.KafkaSourceConfig;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.ParkedGroup;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * What {@code ferry groups} and the admin endpoints do with parked groups, on a configuration's
 * ledger and queues: list them, release one.
 */
final class GroupActions {

    /** How long a release waits for parked messages still on their way to the dead-letter queue. */
    static final Duration PATIENCE = Duration.ofSeconds(30);

    /** Sources with a release under way in this process (see {@link #release}). */
    private static final java.util.Set<List<String>> RELEASING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final FerryConfig config;
    private final GroupParking parking;
    private final SqsClient client;

    GroupActions(FerryConfig config, Object ledger, SqsClient client) {
        if (!(ledger instanceof GroupParking p)) {
            throw new FerryException("the ledger '" + config.ledger().kind() + "' keeps no parked groups", false);
        }
        this.config = config;
        this.parking = p;
        this.client = client;
    }

    /** How many groups a listing shows unless asked for more: a bad deploy parks hundreds of thousands. */
    static final int DEFAULT_LIMIT = 1_000;

    List<ParkedGroup> list() {
        return list(DEFAULT_LIMIT).groups();
    }

    /** At most {@code limit} parked groups (those the ledger reads first), by source and since; and how many in all. */
    dev.ferry.domain.parking.ParkedGroupListing list(int limit) {
        var some = parking.parkedGroups(limit);
        var sorted = new ArrayList<>(some.groups());
        sorted.sort(Comparator.comparing(ParkedGroup::source).thenComparing(ParkedGroup::since));
        return new dev.ferry.domain.parking.ParkedGroupListing(sorted, some.total());
    }

    /**
     * Releases {@code group} of {@code source} (null: the one source where that group is parked).
     *
     * @throws IllegalArgumentException when the source or group is not one that can be released
     */
    GroupParker.Released release(String source, String group, boolean skipHead) throws InterruptedException {
        return release(source, group, skipHead, null);
    }

    /**
     * Why {@code group} is not parked where asked ({@code asked}: the source named, or null for any configured one):
     * not parked at all, parked on another source of this configuration, or on a source the configuration no longer
     * has (renamed, removed) — looked for among the first {@link #DEFAULT_LIMIT} listed, on this path only. Asked again,
     * the same answer: the request's mistake (a 409 said "run it again", and a script's retry loop spun for ever).
     */
    private IllegalArgumentException notParked(String group, String asked) {
        var elsewhere = parking.parkedGroups(DEFAULT_LIMIT).groups().stream().filter(p -> p.group().equals(group))
                .map(ParkedGroup::source).distinct().toList();
        var configured = elsewhere.stream().filter(config.sources()::containsKey).toList();
        if (asked != null && !configured.isEmpty()) {
            return new BadSource("group " + group + " is not parked on source '" + asked + "' but on " + configured
                    + ": name that one (--source " + configured.getFirst() + ")");
        }
        return elsewhere.isEmpty() ? new BadSource("group " + group + " is not parked (released already, or never parked: "
                + "'ferry groups list' shows those that are)")
                : new BadSource("group " + group + " is parked on source(s) " + elsewhere + ", which this configuration does "
                        + "not have (sources: " + config.sources().keySet() + "): run the release with the configuration "
                        + "that has it");
    }

    /** A source the request names wrongly, or must name: the request's mistake (400), not a state to wait out (409). */
    static final class BadSource extends IllegalArgumentException {
        BadSource(String message) {
            super(message);
        }
    }

    /** As {@link #release(String, String, boolean)}, dropping the head only if it is still {@code expectedHead} (when given). */
    GroupParker.Released release(String source, String group, boolean skipHead, String expectedHead)
            throws InterruptedException {
        return release(source, group, skipHead, expectedHead, false);
    }

    /** As above; {@code giveUpMissing}: the parked messages not found are gone, the operator says (see GroupParker). */
    GroupParker.Released release(String source, String group, boolean skipHead, String expectedHead, boolean giveUpMissing)
            throws InterruptedException {
        group = asParked(source, group);
        source = sourceFor(source, group);
        var spec = config.sources().get(source);
        if (spec == null) {
            throw new BadSource("no source named '" + source + "' (sources: " + config.sources().keySet() + ")");
        }
        // one release per source at a time: a release reads the whole dead-letter queue, and holds the messages of
        // other groups while it does, which a release of one of those groups at the same moment would not see
        var running = List.of(source);
        if (!RELEASING.add(running)) {
            throw new IllegalArgumentException("a release of a group of '" + source + "' is running: wait for it");
        }
        try {
            return release(spec, source, group, skipHead, expectedHead, giveUpMissing);
        } finally {
            releases.incrementAndGet(); // before its answer is sent: the listing its caller reads next is read anew
            RELEASING.remove(running);
        }
    }

    /**
     * Moved on as a release begins and as it ends: a listing read across either is not kept (the admin API's, the
     * console's) — the group a release took out was shown parked after its 200, with its button, for seconds.
     */
    private final java.util.concurrent.atomic.AtomicLong releases = new java.util.concurrent.atomic.AtomicLong();

    long releases() {
        return releases.get();
    }

    /** A release begins or ended (the admin API's, its answer not yet sent: the next listing is read anew). */
    void releaseMoved() {
        releases.incrementAndGet();
    }

    /** Set once whoever runs releases here is going away: see {@link #stopping()}. */
    private volatile boolean stopping;

    /**
     * Whoever runs releases here is going away (Ferry's close, the CLI's Ctrl-C): each release under way ends after the
     * batch it recorded, saying so, its group parked for the next release to go on in order. Only waited for, a release
     * read on until the close took the ledger under a batch sent back: its count lost, the next release numbered its
     * copies below those that passed, and the group was let flow with them still in the queue.
     */
    void stopping() {
        stopping = true;
    }

    /**
     * {@code mover}, told of {@link #stopping()} before each batch ({@link GroupParker.Progress#stopping}), each move, and
     * as the release watches its copies pass ({@link GroupParker.Mover#stopping}).
     */
    private GroupParker.Mover stoppable(GroupParker.Mover mover) {
        return new GroupParker.Mover() {
            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead) {
                return move(parked, token, skipHead, (counted, redriven) -> { });
            }

            @Override
            public GroupParker.Moved move(ParkedGroup parked, String token, boolean skipHead, GroupParker.Progress progress) {
                if (stopping) { // between moves (the patience's waits), and for a mover that does not ask
                    return new GroupParker.Moved(0, 0, "Ferry is stopping; release it again to go on");
                }
                return mover.move(parked, token, skipHead, new GroupParker.Progress() {
                    @Override
                    public void movedSoFar(long counted, long redriven) {
                        progress.movedSoFar(counted, redriven);
                    }

                    @Override
                    public boolean stillReleasing() {
                        return progress.stillReleasing();
                    }

                    @Override
                    public boolean stopping() {
                        return stopping || progress.stopping();
                    }
                });
            }

            @Override
            public boolean stopping() { // unasked, a watch held the close (which waits seconds) for its whole patience
                return stopping;
            }
        };
    }

    private GroupParker.Released release(FerryConfig.SourceSpec spec, String source, String group, boolean skipHead,
                                         String expectedHead, boolean giveUpMissing) throws InterruptedException {
        var parker = new GroupParker(parking, Clock.systemUTC());
        if (!(spec.plan() instanceof KafkaSourceConfig) && !(spec.plan() instanceof SqsSourceConfig)) {
            throw new BadSource("source '" + source + "' reads from " + spec.transport() + ", whose parked groups cannot "
                    + "be released by Ferry");
        }
        if (parking.parkedGroup(source, group).isEmpty()) {
            throw notParked(group, source);
        }
        if (spec.plan() instanceof KafkaSourceConfig kafka) {
            return parker.release(source, group, skipHead, expectedHead, stoppable(kafka.parkedGroupMover()), PATIENCE,
                    giveUpMissing);
        }
        var sqs = (SqsSourceConfig) spec.plan();
        var queues = SqsQueues.of(client);
        String queueUrl = queues.url(sqs.queue());
        // a usage error, not "run it again": a retry loop spun on it until someone put the queue's RedrivePolicy back
        var redrive = queues.describe(queueUrl).redrive().orElseThrow(() -> new BadSource("queue " + queueUrl + " has no "
                + "dead-letter queue (no RedrivePolicy), so its parked messages cannot be found: give it back the "
                + "RedrivePolicy naming the dead-letter queue the group was parked into, then release it"));
        String deadLetterQueueUrl;
        try {
            deadLetterQueueUrl = queues.url(redrive.deadLetterTargetArn());
        } catch (dev.ferry.domain.model.FerryException e) {
            if (e.retryable()) {
                throw e;
            }
            throw new BadSource("the dead-letter queue of " + queueUrl + " cannot be used (" + e.getMessage() + "), so its "
                    + "parked messages cannot be found: make the RedrivePolicy name the dead-letter queue the group was "
                    + "parked into, then release it");
        }
        return parker.release(source, group, skipHead, expectedHead,
                stoppable(queues.parkedGroupMover(deadLetterQueueUrl, queueUrl)), PATIENCE, giveUpMissing);
    }

    /** A parked group as the admin endpoints answer it. */
    static Map<String, Object> json(ParkedGroup p) {
        var m = new LinkedHashMap<String, Object>();
        m.put("source", p.source());
        m.put("group", p.group());
        m.put("head", p.head());
        m.put("reason", p.reason());
        m.put("since", p.since().toString());
        m.put("waiting", p.waiting());
        m.put("releasing", p.releaseToken() != null);
        m.put("closing", p.closing()); // released: only what went back is still to be handled
        return m;
    }

    static Map<String, Object> json(GroupParker.Released r) {
        var m = new LinkedHashMap<String, Object>();
        m.put("result", r.finish().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        m.put("redriven", r.redriven());
        m.put("skipped", r.skipped());
        m.put("not-found", r.notFound());
        return m;
    }

    /**
     * {@code group} as it is parked: as given, or — not parked so — as {@code ferry groups list --json} writes it, its
     * escapes read back. A Kafka key of a number (LongSerializer's, IntegerSerializer's) begins with NUL bytes, which no
     * command line carries: listed with them escaped, the group was "not parked" when released by that spelling.
     */
    private String asParked(String source, String group) {
        if (group == null || group.indexOf('\\') < 0 || parkedOn(source, group)) {
            return group;
        }
        try {
            return Json.parse("\"" + group + "\"") instanceof String read && parkedOn(source, read) ? read : group;
        } catch (RuntimeException notJson) { // a backslash of its own: the group as given
            return group;
        }
    }

    /** Whether {@code group} is parked on {@code source}, or on any source configured when it is null. */
    private boolean parkedOn(String source, String group) {
        return source != null ? parking.parkedGroup(source, group).isPresent()
                : config.sources().keySet().stream().anyMatch(s -> parking.parkedGroup(s, group).isPresent());
    }

    /** {@code source}, or when not given the one source {@code group} is parked on (else a refusal naming why). */
    String sourceFor(String source, String asked) {
        if (source != null) {
            return source;
        }
        String group = asParked(null, asked);
        // looked up on each configured source, not in a listing of every parked group (hundreds of thousands)
        var sources = config.sources().keySet().stream().filter(s -> parking.parkedGroup(s, group).isPresent()).toList();
        if (sources.isEmpty()) {
            throw notParked(group, null);
        }
        if (sources.size() > 1) {
            throw new BadSource("group " + group + " is parked on several sources " + sources + ": name one with --source");
        }
        return sources.getFirst();
    }

    /** What the CLI prints for a release. */
    static String text(String group, GroupParker.Released r) {
        return text(null, group, r);
    }

    /** What the CLI prints and the log says for a release of {@code group} of {@code source} (null: not known). */
    static String text(String source, String group, GroupParker.Released r) {
        String again = "ferry groups release " + group + (source == null ? "" : " --source " + source);
        group = source == null ? group : group + " of '" + source + "'"; // two sources may each have a group of this name
        String moved = r.redriven() + " message(s) sent back in order" + (r.skipped() > 0 ? ", " + r.skipped() + " skipped" : "")
                + (r.notFound() > 0 ? "; " + r.notFound() + " parked message(s) counted were not in the dead-letter queue: "
                + "counted twice (delivered twice), or gone from it (its retention, 4 days by default on SQS, or deleted by "
                + "hand) — if its head was among them, that event is lost" : "");
        return switch (r.finish()) {
            case UNPARKED -> "group " + group + " released: " + moved + "; all handled, the group flows again";
            // not "it flows again": a message of the group that reaches a listener among them is parked behind them, and
            // the group stays parked past the last of them — a script that trusted the exit 0 never released it again
            case CLOSING -> "group " + group + " released: " + moved + "; not all of them handled yet: it flows again once "
                    + "the listeners have handled them, unless a message of the group arriving meanwhile is parked behind "
                    + "them — if 'ferry groups list' still shows the group then, that message needs another release: " + again;
            case NOT_YET -> "group " + group + ": " + moved + ", but some parked messages have not been moved within "
                    + PATIENCE.toSeconds() + "s (not in the dead-letter queue yet, or parked behind those sent back while "
                    + "they were handled); the group stays parked: release it again"
                    + (r.redriven() + r.skipped() == 0 ? " — none of them was found: if they are truly gone from it (its "
                    + "retention, or deleted by hand; not held by another release, nor in another queue), "
                    + "--give-up-missing gives them up and the group flows again" : "");
        };
    }

    /** The CLI's table of parked groups. */
    static String table(List<ParkedGroup> groups) {
        if (groups.isEmpty()) {
            return "no parked groups\n";
        }
        var out = new StringBuilder(String.format("%-16s %-24s %7s  %-20s %s%n", "SOURCE", "GROUP", "WAITING", "SINCE",
                "HEAD: REASON"));
        for (var p : groups) {
            out.append(String.format("%-16s %-24s %7d  %-20s %s: %s%s%n", Printable.of(p.source()), Printable.of(p.group()),
                    p.waiting(), p.since().truncatedTo(java.time.temporal.ChronoUnit.SECONDS), Printable.of(p.head()),
                    oneLine(p.reason()),
                    releaseNote(p)));
        }
        return out.toString();
    }

    /**
     * What the state says of a release, and no more: it cannot tell one that runs from one that stopped half-way (or
     * whose group was parked again behind a message the producer sent meanwhile) — "under way" told the operator to
     * wait for a release nothing ran.
     */
    private static String releaseNote(ParkedGroup p) {
        if (p.releaseToken() == null) {
            return "";
        }
        return p.closing() ? " (released: flows once what was sent back is handled)"
                : " (a release began and has not ended: if none is running, release it again)";
    }

    private static String oneLine(String s) {
        String flat = Printable.of(s.replaceAll("[\\r\\n\\t]+", " "));
        return flat.length() > 200 ? flat.substring(0, 200) + "…" : flat;
    }
}
