package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsClients;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.parking.GroupParker;
import dev.ferry.domain.parking.ParkedGroup;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ferry groups list} and {@code ferry groups release}: parked groups ({@code on-poison: park}).
 * A running Ferry holds the ledger (an MVStore file is one process's), so the commands ask it on its
 * admin address first; when nothing answers there, they open the ledger and the queues themselves.
 */
final class GroupCommands {

    private GroupCommands() {
    }

    @Command(name = "groups", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            synopsisSubcommandLabel = "COMMAND", description = "Lists and releases parked groups (sources with on-poison: park).",
            subcommands = {ListGroups.class, Release.class})
    static final class Groups implements Runnable {
        @Spec
        private CommandSpec spec;

        @Override
        public void run() {
            throw new ParameterException(spec.commandLine(), "Missing the command: list or release");
        }
    }

    /** A groups command: asks the running Ferry, or works on the ledger and queues here. */
    abstract static class OnGroups extends AskRunningFerry {
        OnGroups(Ferry.Io io) {
            super(io);
        }

        @Override
        final int local(FerryConfig config, Object ledger, RunContext context) throws InterruptedException {
            boolean sqs = config.sources().values().stream().anyMatch(s -> "sqs".equals(s.transport()));
            return local(new GroupActions(config, ledger, sqs ? SqsClients.forContext(context) : null));
        }

        abstract int local(GroupActions actions) throws InterruptedException;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = "Lists parked groups: source, group, messages waiting, since when, and the head's reason.")
    static final class ListGroups extends OnGroups {
        @Option(names = "--json", description = "Print the list as JSON (what the admin endpoint /groups answers).")
        private boolean json;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "1000",
                description = "List at most N groups (1 to 100000; default ${DEFAULT-VALUE}); how many there are in all is said "
                        + "on standard error when that is more.")
        private int limit;

        @Spec
        private CommandSpec spec;

        @Override
        void checkOptions() {
            if (limit < 1 || limit > AdminGroups.MAX_LIMIT) {
                throw new ParameterException(spec.commandLine(), "--limit must be from 1 to " + AdminGroups.MAX_LIMIT
                        + ", was " + limit);
            }
        }

        private void sayMore(long shown, long total) {
            if (total > shown) {
                io.err().println("ferry: showing " + shown + " of " + total + " parked groups (--limit N for more)");
            }
        }

        ListGroups(Ferry.Io io) {
            super(io);
        }

        @Override
        int remote(FerryConfig config, HttpClient http, URI admin) throws IOException, InterruptedException {
            var response = send(http, request(config, admin.resolve("/groups?limit=" + limit)).timeout(Duration.ofSeconds(30)).build());
            if (response.statusCode() == 404) {
                io.err().println("ferry: the running Ferry keeps no parked groups (its ledger does not)");
                return Ferry.FAILED;
            }
            if (response.statusCode() != 200) {
                return failed(response);
            }
            var groups = parse(response.body());
            if (json) {
                io.out().print(response.body());
            } else {
                io.out().print(GroupActions.table(groups));
            }
            long total;
            try {
                total = response.headers().firstValueAsLong("X-Total-Count").orElse(groups.size());
            } catch (NumberFormatException rewritten) { // a proxy's: the list stands, its count is unknown
                total = groups.size();
            }
            sayMore(groups.size(), total);
            return Ferry.OK;
        }

        @Override
        int local(GroupActions actions) {
            var listing = actions.list(limit);
            var groups = listing.groups();
            io.out().print(json ? Json.write(groups.stream().map(GroupActions::json).toList()) + "\n" : GroupActions.table(groups));
            sayMore(groups.size(), listing.total());
            return Ferry.OK;
        }

        /** The admin endpoint's JSON back into groups, for the table (only what the table shows). */
        private static List<ParkedGroup> parse(String body) {
            @SuppressWarnings("unchecked")
            var items = (List<java.util.Map<String, Object>>) Json.parse(body);
            return items.stream().map(m -> new ParkedGroup((String) m.get("source"), (String) m.get("group"),
                    (String) m.get("head"), null, (String) m.get("reason"), java.time.Instant.parse((String) m.get("since")),
                    java.time.Instant.parse((String) m.get("since")), ((Number) m.get("waiting")).longValue(), 0, Boolean.TRUE.equals(m.get("releasing")) ? "?" : null, 0, 0,
                    Boolean.TRUE.equals(m.get("closing")), 0)).toList();
        }
    }

    @Command(name = "release", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Releases a parked group: its parked messages go back from the dead-letter queue to the source, "
                    + "in their order, and the group flows again once they are handled (anything the producer sent "
                    + "meanwhile comes after them). Exit 1 if it could not be done completely; run it again then."})
    static final class Release extends OnGroups {
        @Parameters(index = "0", paramLabel = "GROUP", description = "The parked group (SQS message group id).")
        private String group;

        @Option(names = "--source", paramLabel = "NAME",
                description = "The source the group is parked on (needed only when it is parked on several).")
        private String source;

        @Override
        String sourceOption() {
            return source;
        }

        @Option(names = "--skip-head", description = "Drop the poison message (the group's head) instead of sending it "
                + "back; name it with --head.")
        private boolean skipHead;

        @Option(names = "--head", paramLabel = "KEY", description = "With --skip-head: the head to drop, as 'ferry groups "
                + "list --json' shows it. Refused when the group's head is another by now (parked again since).")
        private String head;

        @Option(names = "--give-up-missing", description = "The group's parked messages this release does not find in the "
                + "dead-letter queue are gone (its retention, deleted by hand): give them up, and let the group flow once "
                + "those found are handled. Only when they are truly gone: one held by another release or still on its "
                + "way would be left in the queue, out of its group's order.")
        private boolean giveUpMissing;

        @Spec
        private CommandSpec spec;

        Release(Ferry.Io io) {
            super(io);
        }

        @Override
        void checkOptions() { // a usage error (exit 2), before the configuration is read: exit 1 says "run it again"
            if (incomplete() != null) {
                throw new ParameterException(spec.commandLine(), incomplete());
            }
        }

        /** --skip-head without --head: refused, with what to do; null when the options are whole. */
        private String incomplete() {
            if (!skipHead && head != null) {
                return "--head names the head that --skip-head drops: give both, or neither";
            }
            return skipHead && (head == null || head.isBlank()) ? "--skip-head drops the group's head: name it, --head KEY "
                    + "(as 'ferry groups list --json' shows it), so that a head parked since is not dropped unseen" : null;
        }

        @Override
        int remote(FerryConfig config, HttpClient http, URI admin) throws IOException, InterruptedException {
            if (incomplete() != null) {
                io.err().println("ferry: " + incomplete());
                return Ferry.FAILED;
            }
            String token = config.admin().token();
            if (token == null) {
                // asked first whether one runs there: refused (ConnectException), the release is done here, on the ledger
                // itself — said to run there without asking, with none running it was never done, and exit 1 said "again"
                int live = send(http, HttpRequest.newBuilder(admin.resolve("/health/live")).timeout(Duration.ofSeconds(5))
                        .GET().build()).statusCode();
                if (live != 200 && live != 503) { // a Ferry answers its liveness with one of these
                    io.err().println("ferry: what answers on " + admin + " is not a Ferry admin endpoint (/health/live: "
                            + live + "); is admin.listen right?");
                    return Ferry.FAILED;
                }
                io.err().println("ferry: a Ferry runs on " + admin + " and holds the ledger; releasing through it needs "
                        + "admin.token in the configuration");
                return Ferry.USAGE; // the configuration's to mend: asked again, it is refused again
            }
            String query = "group=" + URLEncoder.encode(group, StandardCharsets.UTF_8)
                    + (source != null ? "&source=" + URLEncoder.encode(source, StandardCharsets.UTF_8) : "")
                    + (skipHead ? "&skip-head=true&head=" + URLEncoder.encode(head, StandardCharsets.UTF_8) : "")
                    + (giveUpMissing ? "&give-up-missing=true" : "");
            var request = HttpRequest.newBuilder(admin.resolve("/groups/release?" + query))
                    .header("Authorization", "Bearer " + token).timeout(Duration.ofMinutes(5))
                    .POST(HttpRequest.BodyPublishers.noBody()).build();
            var response = send(http, request);
            if (response.statusCode() != 200) {
                return failed(response);
            }
            @SuppressWarnings("unchecked")
            var answer = (java.util.Map<String, Object>) Json.parse(response.body());
            var finish = GroupParker.Finish.valueOf(((String) answer.get("result")).toUpperCase(java.util.Locale.ROOT)
                    .replace('-', '_'));
            var released = new GroupParker.Released(finish, ((Number) answer.get("redriven")).longValue(),
                    ((Number) answer.get("skipped")).longValue(),
                    answer.get("not-found") instanceof Number n ? n.longValue() : 0); // an older instance does not say
            // the source the instance chose when none was named (an older instance does not say)
            io.out().println(GroupActions.text(answer.get("source") instanceof String s ? s : source, group, released));
            return finish == GroupParker.Finish.NOT_YET ? Ferry.FAILED : Ferry.OK;
        }

        @Override
        int local(GroupActions actions) throws InterruptedException {
            if (incomplete() != null) {
                io.err().println("ferry: " + incomplete());
                return Ferry.FAILED;
            }
            var over = new CountDownLatch(1);
            var stop = stopOnExit(actions, over);
            try { // over for the hook only once its last words are out: a stop halts the JVM right after
                GroupParker.Released released;
                String from;
                try {
                    from = actions.sourceFor(source, group);
                    released = actions.release(from, group, skipHead, head, giveUpMissing);
                } catch (GroupActions.BadSource e) { // the command line's mistake: exit 1 says "run it again"
                    io.err().println("ferry: " + Printable.of(Thrown.message(e)));
                    return Ferry.USAGE;
                } catch (IllegalArgumentException | GroupParker.ReleaseInterrupted e) {
                    // it may name the group's head, an event key a sender chose, and why it was parked again
                    io.err().println("ferry: " + Printable.of(Thrown.message(e)));
                    return Ferry.FAILED;
                } catch (RuntimeException e) {
                    if (stop.isAlive()) { // the hook runs (Ctrl-C): said here, past it the JVM may halt before stderr has it
                        io.err().println("ferry: " + Printable.of(Thrown.message(e)));
                        io.err().flush();
                    }
                    throw e;
                }
                io.out().println(GroupActions.text(from, group, released));
                io.out().flush();
                return released.finish() == GroupParker.Finish.NOT_YET ? Ferry.FAILED : Ferry.OK;
            } finally {
                over.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(stop);
                } catch (IllegalStateException exiting) { // the JVM is stopping: the hook runs, and finds the release over
                }
            }
        }

        /**
         * Ctrl-C (SIGTERM) during the release, until {@code over}: it ends after the batch in hand, recorded, and the exit
         * waits for that, as a redrive's does ({@link RedriveStop}). Without it the JVM stopped mid-batch: copies sent and
         * originals deleted, their count lost — the next release numbered its copies below those, and the group flowed
         * ahead of them. Registered, and returned to be taken off.
         */
        private Thread stopOnExit(GroupActions actions, CountDownLatch over) {
            var hook = new Thread(() -> {
                actions.stopping();
                try {
                    if (!over.await(STOP_PATIENCE.toNanos(), TimeUnit.NANOSECONDS)) {
                        io.err().println("ferry: the release of group " + Printable.of(group) + " did not end its batch "
                                + "within " + STOP_PATIENCE.toSeconds() + " s: what it sent back last may not be counted; "
                                + "look at 'ferry groups list', and release it again");
                        io.err().flush();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "ferry-release-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            return hook;
        }

        /** How long a stop waits for the batch in hand: a batch's sends, deletes and the store's retries of its count. */
        private static final Duration STOP_PATIENCE = Duration.ofSeconds(30);
    }
}
