package dev.ferry.app;

import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ferry events show}: what happened to an event, from the ledger. */
final class EventCommands {

    private EventCommands() {
    }

    @Command(name = "events", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            synopsisSubcommandLabel = "COMMAND", description = "Looks events up in the ledger.", subcommands = Show.class)
    static final class Events implements Runnable {
        @Spec
        private CommandSpec spec;

        @Override
        public void run() {
            throw new ParameterException(spec.commandLine(), "Missing the command: show");
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"What happened to an event: done (when), being handled, failed attempts (how many, when, the "
                    + "last reason), duplicates, its dead letter, and the sinks that marked it written. By its key (the "
                    + "format's id), or by a message id the transport gave (known for messages that failed, were "
                    + "duplicates or were dead-lettered). Exit 1 when nothing is known of it."})
    static final class Show extends AskRunningFerry {
        @Parameters(index = "0", arity = "0..1", paramLabel = "KEY", description = "The event's key (its id in the format).")
        private String key;

        @Option(names = "--message-id", paramLabel = "ID", description = "Find it by the transport's message id instead.")
        private String messageId;

        @Option(names = "--source", paramLabel = "NAME", description = "Only in this source (default: every source).")
        private String source;

        @Override
        String sourceOption() {
            return source;
        }

        @Option(names = "--json", description = "Print what the admin endpoint /events answers.")
        private boolean json;

        Show(Ferry.Io io) {
            super(io);
        }

        private void check() {
            if ((key == null) == (messageId == null)) {
                throw new ParameterException(spec.commandLine(), "Give the event's KEY or --message-id ID (one of them)");
            }
        }

        @Override
        int remote(FerryConfig config, HttpClient http, URI admin) throws IOException, InterruptedException {
            check();
            String query = (key != null ? "key=" + URLEncoder.encode(key, StandardCharsets.UTF_8)
                    : "message-id=" + URLEncoder.encode(messageId, StandardCharsets.UTF_8))
                    + (source != null ? "&source=" + URLEncoder.encode(source, StandardCharsets.UTF_8) : "");
            var response = send(http, request(config, admin.resolve("/events?" + query)).timeout(Duration.ofSeconds(30))
                    .build());
            if (response.statusCode() != 200) {
                return failed(response);
            }
            @SuppressWarnings("unchecked")
            var found = (List<Map<String, Object>>) Json.parse(response.body());
            return print(found);
        }

        @Override
        int local(FerryConfig config, Object ledger, RunContext context) {
            check();
            if (!(ledger instanceof IdempotencyLedger l)) {
                io.err().println("ferry: the ledger '" + config.ledger().kind() + "' cannot be asked");
                return Ferry.FAILED;
            }
            var actions = new EventActions(config, l);
            List<EventActions.Found> found;
            try {
                found = key != null ? actions.byKey(source, key) : actions.byMessage(source, messageId);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            return print(found.stream().map(EventActions::json).toList());
        }

        private int print(List<Map<String, Object>> found) {
            if (found.isEmpty()) {
                io.err().println("ferry: nothing is known of " + (key != null ? "event " + key : "message " + messageId)
                        + (source != null ? " in source " + source : "") + " (never seen, or forgotten after ledger.ttl)");
                return Ferry.FAILED;
            }
            io.out().print(json ? Json.write(found) + "\n" : EventActions.text(found));
            return Ferry.OK;
        }
    }
}
