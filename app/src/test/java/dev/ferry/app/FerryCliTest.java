package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's parsing, help, version, config printing and progress; the commands' effects are in FerryAppIT. */
class FerryCliTest {

    @Test // the JDK's timeout ends at the headers: an answer whose body stalled held `ferry groups list` until Ctrl-C
    void anAnswerWhoseBodyStalls_endsTheCommandWithinTheRequestsTimeout() throws Exception {
        try (var server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            var serving = Thread.ofVirtual().start(() -> {
                try (var socket = server.accept()) {
                    socket.getInputStream().read(new byte[4096]);
                    socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            + "Content-Length: 100\r\n\r\n[{\"source\"").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                    Thread.sleep(20_000); // and nothing more
                } catch (Exception ignored) {
                    // closed by the test's end
                }
            });
            try (var http = java.net.http.HttpClient.newHttpClient()) {
                var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.getLocalPort()
                        + "/groups")).timeout(Duration.ofSeconds(1)).build();
                long start = System.nanoTime();
                var thrown = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10),
                        () -> org.junit.jupiter.api.Assertions.assertThrows(java.net.http.HttpTimeoutException.class,
                                () -> AskRunningFerry.send(http, request)));
                assertThat(thrown.getMessage()).contains("did not answer in full within 1s");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            } finally {
                serving.interrupt();
            }
        }
    }

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int ferry(Map<String, String> env, String... args) {
        return Ferry.run(args, out, err, env::get);
    }

    private int ferry(String... args) {
        return ferry(Map.of(), args);
    }

    @Test
    void unknownOption_isAnError_withTheNearestOption_andNothingRuns() {
        // --mx 10 used to be ignored, and the whole DLQ redriven; no server exists here, so a run would fail with 1
        assertThat(ferry("queues", "redrive", "-c", "../examples/local.yaml", "--from", "d", "--to", "q", "--mx", "10"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("Unknown options: '--mx', '10'").contains("Did you mean --max?")
                .contains("See 'ferry queues redrive --help'");
        assertThat(out.toString()).isEmpty();
    }

    @Test // a review: picocli read @NAME as a file of arguments; events show @orders looked up what the file orders held
    void anArgumentBeginningWithAt_isTakenAsItIs_notAsAFilesName(@TempDir Path dir) throws Exception {
        var named = dir.resolve("orders");
        Files.writeString(named, "order-42\n");
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n"
                + "ledger: {kind: mvstore, path: " + dir.resolve("l.db") + "}\nadmin: {listen: \"off\"}\n");
        dev.ferry.adapters.mvstore.MvStoreLedger.open(dir.resolve("l.db")).close(); // a ledger that has run here

        ferry("events", "show", "@" + named, "-c", file.toString());

        assertThat(out + " " + err).contains("@" + named).doesNotContain("order-42");
    }

    @Test
    void unknownCommandsAndStrayArguments_areErrors() {
        assertThat(ferry("valdate", "-c", "x.yaml")).isEqualTo(2);
        assertThat(err.toString()).contains("Did you mean validate?");
        assertThat(ferry("validate", "-c", "../examples/local.yaml", "extra")).isEqualTo(2);
        assertThat(err.toString()).contains("'extra'");
        assertThat(ferry("queues")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing the command: create, list-dlq-sources, redrive or allow-mturk");
        assertThat(ferry()).isEqualTo(2);
        assertThat(err.toString()).contains("Usage: ferry [-hV] COMMAND");
    }

    @Test
    void configFile_comesFromTheOption_orFromFerryConfig() {
        assertThat(ferry("validate")).isEqualTo(2);
        assertThat(err.toString()).contains("give -c/--config FILE or set FERRY_CONFIG");
        assertThat(ferry(Map.of("FERRY_CONFIG", "../examples/local.yaml"), "validate")).isZero();
        assertThat(ferry("validate", "--config", "../examples/local.yaml")).isZero();
        assertThat(out.toString()).contains("../examples/local.yaml is valid");
    }

    @Test
    void redriveOptions_thatCannotGoTogether_areRefused_beforeAnyCall() {
        assertThat(ferry("queues", "redrive", "-c", "../examples/local.yaml", "--from", "d", "--native", "--max", "5"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("--native moves the whole dead-letter queue");
        assertThat(ferry("queues", "redrive", "-c", "../examples/local.yaml", "--from", "d")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required option: '--to=QUEUE'");
        assertThat(ferry("queues", "redrive", "-c", "../examples/local.yaml", "--from", "d", "--to", "q", "--rate", "0"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("--rate must be more than 0");
        assertThat(ferry("queues", "redrive", "-c", "../examples/local.yaml", "--from", "d", "--to", "q", "--max", "x"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("--max");
    }

    @Test
    void versionAndHelp_forEveryCommand() {
        assertThat(ferry("--version")).isZero();
        assertThat(out.toString()).startsWith("ferry ").contains("Java ");
        for (var command : new String[][] {{"run"}, {"validate"}, {"config", "print"}, {"queues", "create"},
                {"queues", "list-dlq-sources"}, {"queues", "redrive"}, {"queues", "allow-mturk"}, {"ledger", "create-table"},
                {"groups", "list"}, {"groups", "release"}, {"events", "show"}, {"send-test-event"}}) {
            out.reset();
            var args = java.util.stream.Stream.concat(java.util.Arrays.stream(command), java.util.stream.Stream.of("--help"))
                    .toArray(String[]::new);
            assertThat(ferry(args)).as(String.join(" ", command)).isZero();
            assertThat(out.toString()).as(String.join(" ", command)).startsWith("Usage: ferry " + String.join(" ", command));
        }
    }

    @Test
    void aCommandLineThatNamesItsCommand_buildsThatCommandOnly_theUsageListsThemAll() {
        var io = new Ferry.Io(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), k -> null);
        assertThat(Ferry.commandLine(io, new String[] {"run", "-c", "x.yaml"}).getSubcommands()).containsOnlyKeys("run");
        assertThat(Ferry.commandLine(io, new String[] {"queues", "redrive"}).getSubcommands()).containsOnlyKeys("queues");
        var all = new String[] {"run", "validate", "config", "queues", "groups", "events", "ledger", "send-test-event",
                "generate-completion"};
        assertThat(Ferry.commandLine(io, new String[] {"--help"}).getSubcommands()).containsOnlyKeys(all);
        assertThat(Ferry.commandLine(io, new String[] {"generate-completion"}).getSubcommands()).containsOnlyKeys(all);
        assertThat(ferry("--help")).isZero();
        assertThat(out.toString()).contains("run ", "validate ", "groups ", "events ", "send-test-event ", "generate-completion ");
    }

    @Test
    void completionScript_isGenerated() {
        assertThat(ferry("generate-completion")).isZero();
        assertThat(out.toString()).contains("complete -F").contains("redrive").contains("--dry-run");
    }

    @Test
    void configPrint_resolvesVariables_andMasksSecrets(@TempDir Path dir) throws Exception {
        var file = dir.resolve("f.yaml");
        Files.writeString(file, """
                aws:
                  region: ${REGION:-eu-west-1}
                sources:
                  in:
                    http: {listen: "127.0.0.1:0", auth: bearer, token: "${INGEST_TOKEN}"}
                sinks:
                  out:
                    type: http
                    url: https://user:hunter2@hooks.slack.com/services/T0/B0/XXXXslackpathsecret
                    headers: {Authorization: "Basic c2VjcmV0", X-Team: payments}
                routes:
                  - to: [out]
                """);
        assertThat(ferry(Map.of("INGEST_TOKEN", "t0ps3cr3t-and-long-enough", "REGION", "us-west-2"),
                "config", "print", "-c", file.toString())).as(err.toString()).isZero();
        // every header but the plain ones masked, whatever its name: X-Team too (a review: X-Honeycomb-Team held a key)
        assertThat(out.toString()).contains("region: us-west-2").contains("X-Team: '****'")
                .contains("token: '****'").contains("Authorization: '****'")
                // a webhook keeps its secret in the path: printed as the HTTP adapter prints URLs, host and no more
                .contains("url: https://hooks.slack.com/\u2026").doesNotContain("XXXXslackpathsecret").doesNotContain("/services")
                .doesNotContain("t0ps3cr3t").doesNotContain("hunter2").doesNotContain("c2VjcmV0");
    }

    @Test
    void configPrint_masksSecretsHiddenInValues_subtrees_urls_andAliases() {
        String yaml = """
                kafka:
                  properties:
                    sasl.jaas.config: "org.apache.kafka.common.security.plain.PlainLoginModule required username='u' password='p4ss';"
                    bootstrap.servers: 127.0.0.1:9092
                  jdbc: "jdbc:postgresql://db/x?user=u&password=s3cr3t&ssl=true"
                credentials: {id: AKIA-EXAMPLE, rest: [one, two]}
                token: &tok "a-shared-secret-value"
                also: *tok
                urls:
                  - "https://u:p@ss@example.invalid/path"
                  - "https://:onlypass@example.invalid"
                  - "https://hooks.example.invalid/x?api_key=abc123&team=payments"
                  - "https://discord.com/api/webhooks/123456/discordtokensecret"
                  - "HTTP://hooks.example.invalid:8443/services/T0/B0/uppercasesecret"
                  - "https://api.example.invalid/"
                  - "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-orders?X-Amz-Signature=sigsecret"
                  - "http://LOCALHOST:9324/000000000000/local-orders"
                kafka-properties:
                  ssl.keystore.key: "-----BEGIN PRIVATE KEY-----MIIEsecretpem"
                  basic.auth.user.info: "user:basicpass"
                  elsewhere: "-----BEGIN RSA PRIVATE KEY-----MIIEotherpem"
                  ssl.keystore.type: PEM
                """;
        String printed = dev.ferry.app.config.ConfigPrinter.resolved(yaml, name -> null);
        assertThat(printed).doesNotContain("p4ss").doesNotContain("s3cr3t").doesNotContain("AKIA-EXAMPLE")
                .doesNotContain("a-shared-secret-value").doesNotContain("p@ss").doesNotContain("onlypass").doesNotContain("abc123")
                .doesNotContain("MIIEsecretpem").doesNotContain("basicpass").doesNotContain("MIIEotherpem").contains("ssl.keystore.type: PEM")
                .contains("bootstrap.servers: 127.0.0.1:9092").contains("ssl=true")
                .contains("credentials: '****'").contains("also: '****'")
                // an http(s) URL shows scheme, host and port only: its path and query may be the webhook's secret
                .doesNotContain("discordtokensecret").doesNotContain("uppercasesecret").doesNotContain("api/webhooks")
                .doesNotContain("team=payments").contains("https://example.invalid/\u2026").contains("https://example.invalid\n")
                .contains("https://hooks.example.invalid/\u2026").contains("https://discord.com/\u2026")
                .contains("HTTP://hooks.example.invalid:8443/\u2026").contains("https://api.example.invalid\n")
                // an AWS endpoint's path names a resource, a loopback one is this machine's: shown, to check what a
                // ${VAR} resolved to — with credential parameters still masked
                .contains("https://sqs.eu-west-1.amazonaws.com/123456789012/prod-orders?X-Amz-Signature=****")
                .doesNotContain("sigsecret").contains("http://LOCALHOST:9324/000000000000/local-orders");
    }

    @Test // a review: an HTTP sink's header whose name no pattern knows (X-Honeycomb-Team) was printed with its key
    void configPrint_masksEveryHttpSinkHeaderValue_butThePlainOnes() {
        String yaml = """
                sources:
                  payments: {sqs: {queue: payments}}
                sinks:
                  events:
                    type: http
                    url: http://127.0.0.1:9/events
                    headers: {X-Honeycomb-Team: "${HC_KEY}", X-Auth: abcd1234efgh5678, X-Team: payments,
                              Content-Type: application/cloudevents+json}
                """;
        String printed = dev.ferry.app.config.ConfigPrinter.resolved(yaml, name -> name.equals("HC_KEY") ? "hc0123456789" : null);
        assertThat(printed).doesNotContain("hc0123456789").doesNotContain("abcd1234efgh5678")
                .contains("X-Honeycomb-Team: '****'").contains("Content-Type: application/cloudevents+json")
                .as("masked where it is, not everywhere it is spelled").contains("queue: payments");
    }

    @Test
    void eventsShowAndGroupsList_askTheRunningFerryWithTheAdminToken(@TempDir Path dir) throws Exception {
        var seen = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 4);
        server.createContext("/", exchange -> {
            try (exchange) {
                seen.add(exchange.getRequestURI().getPath() + " " + exchange.getRequestHeaders().getFirst("Authorization"));
                byte[] body = "[]".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.start();
        try {
            var file = dir.resolve("ferry.yaml");
            Files.writeString(file, "sources: {s: {sqs: {queue: q.fifo}, on-poison: park}}\nsinks: {log: {type: log}}\n"
                    + "routes:\n  - to: [log]\nledger: {kind: mvstore, path: " + dir.resolve("l.db") + "}\n"
                    + "admin: {listen: 127.0.0.1:" + server.getAddress().getPort() + ", token: a-token-of-16-chars!}\n");
            ferry("events", "show", "k-1", "-c", file.toString());
            ferry("groups", "list", "-c", file.toString());
        } finally {
            server.stop(0);
        }
        assertThat(seen).containsExactly("/events Bearer a-token-of-16-chars!", "/groups Bearer a-token-of-16-chars!");
    }

    @Test
    void groupsAndEvents_reachARunningFerryWhoseAdminAddressIsAnIpv6Literal(@TempDir Path dir) throws Exception {
        // admin.listen: "[::1]:9465" made the URI http://[[::1]]:9465 — every such command failed "Malformed IPv6 address"
        var seen = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("::", 0), 4); // both stacks
        server.createContext("/", exchange -> {
            try (exchange) {
                seen.add(exchange.getRequestURI().getPath());
                byte[] body = "[]".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.start();
        try {
            for (var listen : new String[] {"[::1]", "[::]", "::"}) {
                var file = dir.resolve("ferry.yaml");
                Files.writeString(file, "sources: {s: {sqs: {queue: q.fifo}, on-poison: park}}\nsinks: {log: {type: log}}\n"
                        + "routes:\n  - to: [log]\nledger: {kind: mvstore, path: " + dir.resolve("l.db") + "}\n"
                        + "admin: {listen: \"" + listen + ":" + server.getAddress().getPort() + "\", token: a-token-of-16-chars!}\n");
                assertThat(ferry("groups", "list", "-c", file.toString())).as(listen + ": " + err).isZero();
            }
        } finally {
            server.stop(0);
        }
        assertThat(seen).containsExactly("/groups", "/groups", "/groups");
    }

    @Test
    void groupsList_withNoFerryAnswering_andNoLedgerFile_saysSo_andMakesNone(@TempDir Path dir) throws Exception {
        // it opened (so made) an empty ledger and answered "no parked groups": from another directory, a relative
        // ledger path is another file, and the operator was told nothing was parked
        var file = dir.resolve("ferry.yaml");
        var ledger = dir.resolve("missing.db");
        Files.writeString(file, "sources: {s: {sqs: {queue: q.fifo}, on-poison: park}}\nsinks: {log: {type: log}}\n"
                + "routes:\n  - to: [log]\nledger: {kind: mvstore, path: " + ledger + "}\nadmin: {listen: \"off\"}\n");
        assertThat(ferry("groups", "list", "-c", file.toString())).isNotZero();
        assertThat(err.toString()).contains("no ledger at " + ledger.toAbsolutePath());
        assertThat(ledger).doesNotExist();

        err.reset(); // a bad option is said before anything is asked or opened (a review: the ledger was opened first)
        assertThat(ferry("groups", "list", "--limit", "0", "-c", file.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--limit must be from 1 to 100000").doesNotContain("no ledger");
    }

    /** What a sender may put in an event key, a reason or an answer: an OSC that retitles the terminal, a C1 CSI, a bidi override. */
    private static final String HOSTILE = "k\u001b]0;x\u0007\u009b2J\u202eevil";

    private static void assertInert(String printed) {
        assertThat(printed.chars().filter(c -> Printable.unsafe((char) c) && c != '\n' && c != '\r')).as(printed).isEmpty();
    }

    /** A stand-in for a running Ferry's admin endpoint on 127.0.0.1: every request answered {@code status} with {@code body}. */
    private static com.sun.net.httpserver.HttpServer adminAnswering(int status, String body) throws java.io.IOException {
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 4);
        server.createContext("/", exchange -> {
            try (exchange) {
                byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(status, bytes.length);
                exchange.getResponseBody().write(bytes);
            }
        });
        server.start();
        return server;
    }

    private static Path configAskingAdmin(Path dir, int port) throws java.io.IOException {
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, "sources: {s: {sqs: {queue: q.fifo}, on-poison: park}}\nsinks: {log: {type: log}}\n"
                + "routes:\n  - to: [log]\nledger: {kind: mvstore, path: " + dir.resolve("l.db") + "}\n"
                + "admin: {listen: 127.0.0.1:" + port + ", token: a-token-of-16-chars!}\n");
        return file;
    }

    @Test // the head of a parked group is an event key a sender chose: its escapes reached the operator's terminal raw
    void groupsRelease_here_printsTheHeadItRefusesToDrop_escaped(@TempDir Path dir) throws Exception {
        var ledger = dir.resolve("l.db");
        try (var store = dev.ferry.adapters.mvstore.MvStoreLedger.open(ledger)) {
            new dev.ferry.domain.parking.GroupParker(store, java.time.Clock.systemUTC())
                    .park("orders", "A", HOSTILE, "m-1", "rejected: " + HOSTILE, null, false);
        }
        var file = dir.resolve("ferry.yaml");
        // a Kafka source: its release reaches no broker before the head is checked; no admin address, so done here
        Files.writeString(file, "sources: {orders: {kafka: {bootstrap-servers: \"127.0.0.1:9\", topics: [orders]}, "
                + "on-poison: park}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n"
                + "ledger: {kind: mvstore, path: " + ledger + "}\nadmin: {listen: \"off\"}\n");

        assertThat(ferry("groups", "release", "A", "--skip-head", "--head", "a1", "-c", file.toString())).as(err.toString())
                .isEqualTo(1);

        assertThat(err.toString()).contains("the head of group A of 'orders' is k\\u001b]0;x\\u0007\\u009b2J\\u202eevil now");
        assertInert(err.toString());
        assertInert(out.toString());
    }

    @Test // a review: asked of a running Ferry, a mistyped --source was its 400, exit 1 ("run it again"); here, exit 2
    void aSourceTheConfigurationLacks_isABadCommandLine_whereverTheCommandWouldGo(@TempDir Path dir) throws Exception {
        var asked = new java.util.concurrent.atomic.AtomicInteger();
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 4);
        server.createContext("/", exchange -> {
            try (exchange) {
                asked.incrementAndGet();
                exchange.sendResponseHeaders(400, -1);
            }
        });
        server.start();
        try {
            var file = dir.resolve("ferry.yaml");
            Files.writeString(file, "sources: {orders: {sqs: {queue: q.fifo}, on-poison: park}}\nsinks: {log: {type: log}}\n"
                    + "routes:\n  - to: [log]\nledger: {kind: mvstore, path: " + dir.resolve("l.db") + "}\n"
                    + "admin: {listen: 127.0.0.1:" + server.getAddress().getPort() + ", token: a-token-of-16-chars!}\n");

            // through a running Ferry (its sources are its own: this file may lag): its 400 is the command line's
            assertThat(ferry("events", "show", "k-1", "--source", "ordrs", "-c", file.toString())).isEqualTo(2);
            assertThat(ferry("groups", "release", "A", "--source", "ordrs", "-c", file.toString())).isEqualTo(2);
            assertThat(asked).as("asked of the running Ferry").hasValue(2);

            // here, by this file's sources
            var here = dir.resolve("here.yaml");
            Files.writeString(here, Files.readString(file).replaceAll("admin: \\{.*\\}", "admin: {listen: \"off\"}"));
            dev.ferry.adapters.mvstore.MvStoreLedger.open(dir.resolve("l.db")).close();
            assertThat(ferry("events", "show", "k-1", "--source", "ordrs", "-c", here.toString())).isEqualTo(2);
            assertThat(ferry("groups", "release", "A", "--source", "ordrs", "-c", here.toString())).isEqualTo(2);
            assertThat(err.toString()).contains("no source named 'ordrs' (sources: [orders])");
        } finally {
            server.stop(0);
        }
    }

    @Test // a review: here, a group parked on two sources without --source was exit 1, "run it again": a retry loop spun
    void aReleaseHere_ofAGroupParkedOnSeveralSources_withoutNamingOne_isABadCommandLine(@TempDir Path dir) throws Exception {
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, "sources:\n  orders: {sqs: {queue: q.fifo}, on-poison: park}\n"
                + "  audit: {sqs: {queue: a.fifo}, on-poison: park}\nsinks: {log: {type: log}}\n"
                + "routes:\n  - to: [log]\nledger: {kind: mvstore, path: " + dir.resolve("l.db") + "}\nadmin: {listen: \"off\"}\n");
        try (var ledger = dev.ferry.adapters.mvstore.MvStoreLedger.open(dir.resolve("l.db"))) {
            var parker = new dev.ferry.domain.parking.GroupParker(ledger, java.time.Clock.systemUTC());
            parker.park("orders", "A", "o1", "m1", "o1 fails", null, false);
            parker.park("audit", "A", "a1", "m2", "a1 fails", null, false);
        }

        assertThat(ferry("groups", "release", "A", "-c", file.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("parked on several sources").contains("--source");
    }

    @Test // a review: a new, empty memory ledger said "never seen" of what the running Ferry had done
    void eventsShow_onAMemoryLedger_withNoFerryAnswering_saysItCannotBeReadFromHere(@TempDir Path dir) throws Exception {
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, "sources: {orders: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n"
                + "ledger: {kind: memory}\nadmin: {listen: \"off\"}\n");

        assertThat(ferry("events", "show", "order-42", "-c", file.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("ledger: memory lives in the running Ferry's process")
                .doesNotContain("never seen");
    }

    @Test // a review: a relative ledger.path opened whatever file of that name lay where the command ran, and said "never
          // seen" of an event the Ferry had handled — an operator who believed it sent the event again
    void commandsHere_onARelativeLedgerPath_areRefused_namingTheFileTheyWouldRead(@TempDir Path dir) throws Exception {
        // the command runs in this JVM's directory (user.dir, the module's): the file lies there, as Path.of resolves it
        var folder = Files.createTempDirectory(Path.of("target"), "relative-ledger");
        var relative = folder.resolve("ferry-ledger.db");
        var there = relative.toAbsolutePath();
        try {
            dev.ferry.adapters.mvstore.MvStoreLedger.open(there).close(); // another pipeline's, say: it has run there
            var file = dir.resolve("ferry.yaml");
            Files.writeString(file, "sources: {orders: {sqs: {queue: q.fifo}, on-poison: park}}\nsinks: {log: {type: log}}\n"
                    + "routes:\n  - to: [log]\nledger: {kind: mvstore, path: " + relative.toString().replace('\\', '/') + "}\n"
                    + "admin: {listen: \"off\"}\n");

            assertThat(ferry("events", "show", "order-42", "-c", file.toString())).as(err.toString()).isEqualTo(2);
            assertThat(err.toString()).contains(there.toString()).contains("absolute path").doesNotContain("never seen");
            err.reset();
            assertThat(ferry("groups", "list", "-c", file.toString())).as(err.toString()).isEqualTo(2);
            assertThat(err.toString()).contains(there.toString());
            assertThat(out.toString()).doesNotContain("no parked groups");
            err.reset();
            assertThat(ferry("groups", "release", "A", "-c", file.toString())).as(err.toString()).isEqualTo(2);
            assertThat(err.toString()).contains(there.toString()).doesNotContain("not parked");
        } finally {
            try (var files = Files.walk(folder)) {
                for (var f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test // the same review: an answer read here did not say which file gave it
    void commandsHere_onAnAbsoluteLedgerPath_answerAsBefore_namingTheFile(@TempDir Path dir) throws Exception {
        var ledger = dir.resolve("l.db").toAbsolutePath();
        try (var store = dev.ferry.adapters.mvstore.MvStoreLedger.open(ledger)) {
            new dev.ferry.domain.parking.GroupParker(store, java.time.Clock.systemUTC())
                    .park("orders", "A", "h-1", "m-1", "rejected: no", null, false);
        }
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, "sources: {orders: {sqs: {queue: q.fifo}, on-poison: park}}\nsinks: {log: {type: log}}\n"
                + "routes:\n  - to: [log]\nledger: {kind: mvstore, path: " + ledger.toString().replace('\\', '/') + "}\n"
                + "admin: {listen: \"off\"}\n");

        assertThat(ferry("groups", "list", "-c", file.toString())).as(err.toString()).isZero();
        assertThat(out.toString()).contains("orders").contains("h-1: rejected: no");
        assertThat(err.toString()).contains("from the ledger file " + ledger);
        err.reset();
        assertThat(ferry("events", "show", "order-42", "-c", file.toString())).as(err.toString()).isEqualTo(1);
        assertThat(err.toString()).contains("nothing is known of event order-42").contains("from the ledger file " + ledger);
    }

    @Test // thirty-eighth round: a Kafka key of a number begins with NUL bytes, which no command line carries; released
          // as 'groups list --json' spells it, the group was "not parked", and could never be released from the CLI
    void groupsRelease_ofAGroupWithNulBytes_spelledAsTheJsonListingWritesIt_findsTheGroup(@TempDir Path dir) throws Exception {
        var ledger = dir.resolve("l.db");
        try (var store = dev.ferry.adapters.mvstore.MvStoreLedger.open(ledger)) {
            new dev.ferry.domain.parking.GroupParker(store, java.time.Clock.systemUTC())
                    .park("orders", "\u0000\u0000\u0000\u0007", "h-1", "m-1", "rejected: no", null, false);
        }
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, "sources: {orders: {kafka: {bootstrap-servers: \"127.0.0.1:9\", topics: [orders]}, "
                + "on-poison: park}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n"
                + "ledger: {kind: mvstore, path: " + ledger + "}\nadmin: {listen: \"off\"}\n");

        ferry("groups", "release", "\\u0000\\u0000\\u0000\\u0007", "--skip-head", "--head", "wrong", "-c", file.toString());

        assertThat(err.toString()).as("found: the head it would drop is checked").contains("is h-1")
                .doesNotContain("not parked");
    }

    @Test // a review: with no admin.token it said a Ferry ran on the admin address, asking nothing; none ran, and exit 1
    void groupsRelease_withoutAToken_andNoFerryOnTheAdminAddress_isDoneHere(@TempDir Path dir) throws Exception {
        var ledger = dir.resolve("l.db");
        try (var store = dev.ferry.adapters.mvstore.MvStoreLedger.open(ledger)) {
            new dev.ferry.domain.parking.GroupParker(store, java.time.Clock.systemUTC())
                    .park("orders", "A", "h-1", "m-1", "rejected: no", null, false);
        }
        int free;
        try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            free = probe.getLocalPort();
        }
        var file = dir.resolve("ferry.yaml");
        Files.writeString(file, "sources: {orders: {kafka: {bootstrap-servers: \"127.0.0.1:9\", topics: [orders]}, "
                + "on-poison: park}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n"
                + "ledger: {kind: mvstore, path: " + ledger + "}\nadmin: {listen: \"127.0.0.1:" + free + "\"}\n");

        ferry("groups", "release", "A", "--skip-head", "--head", "wrong", "-c", file.toString());

        assertThat(err.toString()).as("done here, on the ledger: the head it would drop is checked")
                .contains("the head of group A of 'orders' is h-1").doesNotContain("a Ferry runs on");
    }

    @Test // a failure out of a command was printed raw: here what answers on the admin address sent a bad 'since'
    void aFailureThatQuotesWhatAnswered_isPrintedEscaped(@TempDir Path dir) throws Exception {
        String listing = "[{\"source\":\"s\",\"group\":\"g\",\"head\":\"h\",\"reason\":\"r\",\"since\":\""
                + "\\u001b]0;x\\u0007\",\"waiting\":1}]"; // JSON's own escapes: the parsed text holds the ESC and BEL
        var server = adminAnswering(200, listing);
        try {
            var file = configAskingAdmin(dir, server.getAddress().getPort());
            assertThat(ferry("groups", "list", "-c", file.toString())).as(err.toString()).isEqualTo(1);
        } finally {
            server.stop(0);
        }
        assertThat(err.toString()).contains("ferry: Text '\\u001b]0;x\\u0007' could not be parsed");
        assertInert(err.toString());
    }

    @Test // what answers on the admin address may be no Ferry (a proxy's error page): its body was printed raw
    void groupsRelease_throughTheAdminAddress_printsWhatWasAnswered_escaped(@TempDir Path dir) throws Exception {
        var server = adminAnswering(409, "{\"error\":\"the head of group A of 's' is " + HOSTILE.replace("\u001b", "\\u001b")
                .replace("\u0007", "\\u0007") + " now, not a1\"}");
        try {
            var file = configAskingAdmin(dir, server.getAddress().getPort());
            int exit = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> ferry("groups", "release", "A", "--skip-head", "--head", "a1", "-c", file.toString()));
            assertThat(exit).as(err.toString()).isEqualTo(1);
        } finally {
            server.stop(0);
        }
        assertThat(err.toString()).contains("the running Ferry answered 409").contains("\\u009b2J\\u202eevil");
        assertInert(err.toString());
    }

    @Test
    void configPrint_ofAnInvalidFile_listsItsErrors_andExits2(@TempDir Path dir) throws Exception {
        var file = dir.resolve("bad.yaml");
        Files.writeString(file, "sources:\n  s:\n    sqs: {queue: q}\nsinks:\n  log: {type: log}\nroutes:\n  - to: [nope]\n");
        assertThat(ferry("config", "print", "-c", file.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("no sink named 'nope'");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void progress_elsewhereThanATerminal_isALineEveryInterval_andAtTheEnd() {
        var text = new StringWriter();
        var now = new AtomicLong();
        var progress = new RedriveProgressLine(new PrintWriter(text, true), false, 1000, now::get, Duration.ofSeconds(10));
        now.set(Duration.ofSeconds(4).toNanos());
        progress.update(100, 0);
        assertThat(text.toString()).isEmpty();
        now.set(Duration.ofSeconds(10).toNanos());
        progress.update(250, 0);
        assertThat(text.toString()).isEqualTo("redrive: 250 of about 1000 moved (25%), 25 msg/s, ETA 30s" + System.lineSeparator());
        now.set(Duration.ofSeconds(40).toNanos());
        progress.update(990, 10);
        progress.finish();
        assertThat(text.toString().lines().toList()).hasSize(3)
                .last().isEqualTo("redrive: 990 of about 1000 moved (100%), 10 stayed behind, 25 msg/s");
    }

    @Test
    void progress_onATerminal_redrawsOneBar() {
        var text = new StringWriter();
        var now = new AtomicLong();
        var progress = new RedriveProgressLine(new PrintWriter(text, true), true, 100, now::get, Duration.ofSeconds(10));
        now.set(Duration.ofSeconds(1).toNanos());
        progress.update(50, 0);
        progress.finish();
        assertThat(text.toString()).startsWith("\r[###############---------------] 50 of about 100 moved (50%), 50 msg/s, ETA 1s")
                .endsWith(System.lineSeparator());
    }

    @Test
    void suggestions_measureTypos_asEdits() {
        assertThat(Suggestions.distance("--mx", "--max")).isEqualTo(1);
        assertThat(Suggestions.distance("--mxa", "--max")).isEqualTo(1);
        assertThat(Suggestions.distance("redrvie", "redrive")).isEqualTo(1);
        assertThat(Suggestions.distance("abc", "xyz")).isEqualTo(3);
    }
}
