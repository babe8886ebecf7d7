package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.testing.Await;
import java.io.ByteArrayOutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The operator console in a real browser (Debian's headless Chromium through ChromeDriver), on the
 * packaged {@code ferry.jar} over a real SQS server: a poison message parks its group; the operator
 * looks an event up, sees the parked group, gives the admin token and releases it, and watches the
 * group's messages arrive at the sink in order; then redrives a dead-letter queue from the console and
 * watches it finish. Saves {@code target/console.png}, which
 * {@code docs/console.png} (shown in the README) is a copy of. Then what the page says where it misled: a group
 * released while its copies are still handled, reads refused through a proxy (for good, with no token set: then
 * in this JVM, no Ferry process needed), a sender's bidirectional overrides.
 *
 * <p>Needs {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver}; {@code .ci/run} installs them
 * and sets {@code FERRY_REQUIRE_BROWSER=1}, so in CI their absence fails the test instead of skipping it.
 */
class ConsoleBrowserIT {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final String TOKEN = "console-test-token-0123456789";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    /** How long the page may take to show what an answer said (no work of Ferry's waited for). */
    private static final Duration SOON = Duration.ofSeconds(15);
    /** The source's fields, and a route that sends every event to the sink. */
    private static final String JSON = "{id: /id, group: /account}";
    private static final String EVERY_EVENT = "{to: [ledger-api]}";

    private final List<String> delivered = new CopyOnWriteArrayList<>();
    private volatile boolean poisoned = true;
    /** Set: the sink is slow, holding each request until {@link #letThrough} opens. */
    private volatile boolean slow;
    private final CountDownLatch letThrough = new CountDownLatch(1);
    /** Set: the {@link #proxy} answers reads with a page of its own. */
    private volatile boolean proxyAnswersItself;
    /** The state polls the {@link #proxy} passed on with a token. */
    private final AtomicInteger readsWithAToken = new AtomicInteger();

    @Test
    void anOperator_looksAnEventUp_seesTheParkedGroup_andReleasesIt_inOrder(@TempDir Path dir) throws Exception {
        withConsole(dir, JSON, EVERY_EVENT, (sqs, ferry, driver, adminPort) -> {
            parkAcct7(sqs, ferry);
            var wait = new WebDriverWait(driver, LIMIT);
            driver.get("http://127.0.0.1:" + adminPort + "/console");
            wait.until(d -> d.findElement(By.id("status")).getText().startsWith("live"));

            driver.findElement(By.id("lookup-key")).sendKeys("t2");
            driver.findElement(By.id("lookup-go")).click();
            wait.until(d -> d.findElement(By.id("lookup-result")).getText().contains("dead-lettered"));
            assertThat(driver.findElement(By.id("lookup-result")).getText()).contains("key: t2")
                    .contains("group acct-7 parked at t2");

            wait.until(d -> d.findElement(By.id("groups")).getText().contains("acct-7"));
            assertThat(driver.findElement(By.id("groups")).getText()).contains("trades").contains("HTTP 400");
            assertThat(driver.findElement(By.id("deadletters")).getText()).contains("parked");
            assertThat(driver.findElement(By.id("sources")).getText()).contains("trades").contains("UP");

            poisoned = false; // the cause is fixed downstream
            driver.findElement(By.id("token")).sendKeys(TOKEN);
            // a review: the table is drawn again each second, and a row that moved under the pointer put another
            // group's "drop head" there — the press dropped that group's head unasked. It asks first now
            wait.ignoring(StaleElementReferenceException.class).until(d -> {
                d.findElement(By.cssSelector("button.release-skip[data-group='acct-7']")).click();
                return true;
            });
            var asked = wait.until(ExpectedConditions.alertIsPresent());
            assertThat(asked.getText()).startsWith("Drop the head ").contains(" of group acct-7 (trades)");
            asked.dismiss();
            assertThat(driver.findElement(By.id("release-result")).isDisplayed()).as("nothing sent").isFalse();
            // the console redraws its lists as it refreshes: a button found just before a redraw is gone, so find it again
            wait.ignoring(StaleElementReferenceException.class).until(d -> {
                d.findElement(By.cssSelector("button.release[data-group='acct-7']")).click();
                return true;
            });
            wait.until(d -> d.findElement(By.id("release-result")).getText().contains("released: 3 sent back in order"));
            assertThat(Await.until(LIMIT, () -> delivered.size() == 4)).as(() -> "delivered " + delivered).isTrue();
            assertThat(delivered).containsExactly("t1", "t2", "t3", "t4");
            wait.until(d -> d.findElement(By.id("groups")).getText().contains("no parked groups"));

            // a redrive from the console: three messages from a side DLQ back to its queue, with progress
            sqs.client.createQueue(b -> b.queueName("side"));
            sqs.client.createQueue(b -> b.queueName("side-dlq"));
            for (int i = 0; i < 3; i++) {
                sqs.send("side-dlq", "{\"n\":" + i + "}");
            }
            driver.findElement(By.id("redrive-from")).sendKeys("side-dlq");
            driver.findElement(By.id("redrive-to")).sendKeys("side");
            driver.findElement(By.id("redrive-go")).click();
            wait.until(d -> d.findElement(By.id("redrive-status")).getText().contains("done"));
            assertThat(driver.findElement(By.id("redrive-status")).getText()).contains("side-dlq → side: 3 moved");
            assertThat(sqs.depth("side")).isEqualTo(3);
            assertThat(sqs.depth("side-dlq")).isZero();

            byte[] png = ((ChromeDriver) driver).getScreenshotAs(OutputType.BYTES);
            Files.createDirectories(Path.of("target"));
            Files.write(Path.of("target", "console.png"), png);
            assertThat(png.length).as("a screenshot").isGreaterThan(10_000);
        });
    }

    @Test // a review: a group released whose copies were still being handled ("closing") was drawn as still parked, with
          // both buttons, and the release's answer said "still listed then: release it again" of a group only closing
    void aGroupReleased_whileItsCopiesAreStillHandled_isShownReleased_withNoHeadToDrop(@TempDir Path dir) throws Exception {
        withConsole(dir, JSON, EVERY_EVENT, (sqs, ferry, driver, adminPort) -> {
            parkAcct7(sqs, ferry);
            poisoned = false;
            slow = true; // the first copy sent back is held by the sink until the release has answered
            var wait = new WebDriverWait(driver, LIMIT);
            driver.get("http://127.0.0.1:" + adminPort + "/console");
            wait.until(d -> d.findElement(By.id("groups")).getText().contains("acct-7"));
            driver.findElement(By.id("token")).sendKeys(TOKEN);
            wait.ignoring(StaleElementReferenceException.class).until(d -> {
                d.findElement(By.cssSelector("button.release[data-group='acct-7']")).click();
                return true;
            });

            // all three went back, none handled yet: the ledger says closing, the row says released (as the CLI's list)
            wait.until(d -> d.findElement(By.id("groups")).getText()
                    .contains("released: flows once what was sent back is handled"));
            assertThat(driver.findElements(By.cssSelector("button.release-skip[data-group='acct-7']")))
                    .as("its head went back with the rest: none is parked to drop").isEmpty();
            assertThat(driver.findElements(By.cssSelector("button.release[data-group='acct-7']"))).hasSize(1);

            // the release watches its copies for its patience, then answers that the group is closing
            new WebDriverWait(driver, LIMIT.plus(GroupActions.PATIENCE)).until(d -> d.findElement(By.id("release-result"))
                    .getText().contains("not all handled yet"));
            assertThat(driver.findElement(By.id("release-result")).getText())
                    .startsWith("group acct-7 released: 3 sent back in order")
                    .contains("the group stays listed, as released, until they are").doesNotContain("still listed then");

            letThrough.countDown(); // handled: the last copy to pass lets the group flow
            assertThat(Await.until(LIMIT, () -> delivered.size() == 4)).as(() -> "delivered " + delivered).isTrue();
            assertThat(delivered).containsExactly("t1", "t2", "t3", "t4");
            wait.until(d -> d.findElement(By.id("groups")).getText().contains("no parked groups"));
        });
    }

    @Test // a review: a read refused from another host without the token (401) showed "not reachable: TypeError…", the
          // token's field said it was for releases and redrives only, and a lookup answered by a proxy's page (no JSON)
          // left the previous key's answer in place, read as this key's
    void aConsoleBehindAProxy_saysItsReadsAreRefused_andWhy_untilTheTokenIsGiven(@TempDir Path dir) throws Exception {
        withConsole(dir, JSON, EVERY_EVENT, (sqs, ferry, driver, adminPort) -> {
            send(sqs, "acct-1", "{\"id\":\"t1\",\"account\":\"acct-1\"}");
            assertThat(Await.until(LIMIT, () -> delivered.contains("t1"))).as(ferry::output).isTrue();
            var proxy = proxy(adminPort);
            try {
                var wait = new WebDriverWait(driver, LIMIT);
                var soon = new WebDriverWait(driver, SOON); // the page's own answer to what the proxy said
                driver.get("http://127.0.0.1:" + proxy.getAddress().getPort() + "/console");
                wait.until(d -> !d.findElement(By.id("status")).getText().startsWith("connecting"));
                assertThat(driver.findElement(By.id("status")).getText()).startsWith("refused (401): ")
                        .contains(AdminAccess.READ_NEEDS_TOKEN).endsWith(" — type the admin token under Parked groups");
                assertThat(driver.findElement(By.xpath("//label[.//input[@id='token']]")).getText())
                        .contains("every read from another host");

                driver.findElement(By.id("token")).sendKeys(TOKEN);
                wait.until(d -> d.findElement(By.id("status")).getText().startsWith("live"));
                driver.findElement(By.id("lookup-key")).sendKeys("t1");
                driver.findElement(By.id("lookup-go")).click();
                wait.until(d -> d.findElement(By.id("lookup-result")).getText().contains("key: t1"));

                proxyAnswersItself = true; // Ferry away behind it: the proxy's own page, not JSON
                soon.until(d -> d.findElement(By.id("status")).getText().startsWith("refused (502): "));
                driver.findElement(By.id("lookup-key")).clear();
                driver.findElement(By.id("lookup-key")).sendKeys("t2");
                driver.findElement(By.id("lookup-go")).click();
                soon.until(d -> d.findElement(By.id("lookup-result")).getText().startsWith("refused (502): "));
                assertThat(driver.findElement(By.id("lookup-result")).getText()).doesNotContain("key: t1");
            } finally {
                proxy.stop(0);
            }
        });
    }

    @Test // a review: with no admin.token set, a read from another host (0.0.0.0 under docker run -p) was refused 401, the
          // page said "type the admin token under Parked groups", and every token typed was refused the same, for good
    void aConsoleBehindAProxy_withNoTokenSet_saysNoneIsSet_notToTypeOne() throws Exception {
        needBrowser();
        // the console alone, in this JVM: the page and its state's refusal are all this needs of a Ferry
        try (var observability = new Observability()) {
            observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
            observability.console(new AdminConsole(Map.of(), Map.of(), DeadLetterSamples.shared(), null, "memory",
                    observability.registry(), null, null));
            int adminPort = observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
            var proxy = proxy(adminPort);
            try {
                WebDriver driver = browser();
                try {
                    String forbidden = "refused (403): " + AdminAccess.READ_NEEDS_TOKEN_SET;
                    driver.get("http://127.0.0.1:" + proxy.getAddress().getPort() + "/console");
                    new WebDriverWait(driver, LIMIT)
                            .until(d -> !d.findElement(By.id("status")).getText().startsWith("connecting"));
                    assertThat(driver.findElement(By.id("status")).getText()).isEqualTo(forbidden);

                    driver.findElement(By.id("token")).sendKeys(TOKEN);
                    // two polls sent with it: the first one's answer drawn by the time the second is asked, a second later
                    assertThat(Await.until(SOON, () -> readsWithAToken.get() >= 2)).as("the page polls with the token").isTrue();
                    assertThat(driver.findElement(By.id("status")).getText()).as("no token typed is taken").isEqualTo(forbidden);
                } finally {
                    driver.quit();
                }
            } finally {
                proxy.stop(0);
            }
        }
    }

    @Test // a review: a sender's bidirectional overrides were applied by the browser — in the parked group's row, the
          // dead-letter samples and the drop-head question — where the CLI and the logs write them escaped
    void aSendersBidiOverrides_areShownEscaped_whileTheReleaseSendsTheHeadAsItIs(@TempDir Path dir) throws Exception {
        withConsole(dir, "{id: /id, group: /account, type: /type}", "{match: {type: trade}, to: [ledger-api]}",
                (sqs, ferry, driver, adminPort) -> {
                    // no route takes its type: dead-lettered at once, its group parked at it; the override in the type
                    // draws "gpj.exe" reversed, and "invoiceexe.jpg" reads as a picture's name. (The group itself is the
                    // FIFO MessageGroupId, which SQS holds to ASCII: no override reaches the group's own cell here.)
                    send(sqs, "acct-9", "{\"id\":\"t9\\u2066\",\"account\":\"acct-9\",\"type\":\"invoice\\u202egpj.exe\"}");
                    assertThat(Await.until(LIMIT, () -> sqs.depth("trades-dlq.fifo") == 1)).as(ferry::output).isTrue();
                    var wait = new WebDriverWait(driver, LIMIT);
                    driver.get("http://127.0.0.1:" + adminPort + "/console");
                    wait.until(d -> d.findElement(By.id("groups")).getText().contains("acct-9"));

                    assertThat(driver.findElement(By.id("groups")).getText()).contains("t9\\u2066: ")
                            .contains("invoice\\u202egpj.exe")
                            .doesNotContain("\u202e").doesNotContain("\u2066");
                    assertThat(driver.findElement(By.id("deadletters")).getText()).contains("invoice\\u202egpj.exe")
                            .doesNotContain("\u202e");

                    driver.findElement(By.id("token")).sendKeys(TOKEN);
                    wait.ignoring(StaleElementReferenceException.class).until(d -> {
                        d.findElement(By.cssSelector("button.release-skip[data-group='acct-9']")).click();
                        return true;
                    });
                    var asked = wait.until(ExpectedConditions.alertIsPresent());
                    assertThat(asked.getText()).startsWith("Drop the head t9\\u2066 of group acct-9 (trades)")
                            .doesNotContain("\u202e").doesNotContain("\u2066");
                    asked.accept();
                    // the head sent as it is, not as shown: the one parked, dropped, and the group flows
                    wait.until(d -> d.findElement(By.id("release-result")).getText()
                            .contains("group acct-9 released: 0 sent back in order, 1 dropped"));
                    wait.until(d -> d.findElement(By.id("groups")).getText().contains("no parked groups"));
                });
    }

    /** What a test does with Ferry's console: the SQS server, the running Ferry, the browser, the admin port. */
    @FunctionalInterface
    private interface Scene {
        void play(LocalSqs sqs, FerryProcess ferry, WebDriver driver, int adminPort) throws Exception;
    }

    /**
     * Plays {@code scene} with {@code ferry run} of the packaged jar on a fresh SQS server — one FIFO source, {@code trades},
     * parking its poisoned groups, read by {@code json} and sent by {@code route} to the {@link #api()} — and a headless
     * Chromium; skipped where there is none, unless CI requires it.
     */
    private void withConsole(Path dir, String json, String route, Scene scene) throws Exception {
        needBrowser();
        var api = api();
        try (var sqs = new LocalSqs()) {
            int adminPort = freePort();
            var file = dir.resolve("ferry.yaml");
            // the sink's timeout: a request the slow sink holds while a release watches its copies outlasts the 10 s default
            Files.writeString(file, """
                    aws: {region: us-east-1, endpoint: "%s"}
                    ledger: {kind: mvstore, path: "%s"}
                    admin: {listen: "127.0.0.1:%d", token: "%s"}
                    listener: {max-attempts: 1}
                    sources:
                      trades:
                        sqs: {queue: trades.fifo, max-wait: 1s}
                        format: json
                        json: %s
                        on-poison: park
                    sinks:
                      ledger-api: {type: http, url: "http://127.0.0.1:%d/trades", timeout: 2m}
                    routes:
                      - %s
                    """.formatted(sqs.endpoint(), dir.resolve("ledger.db").toString().replace('\\', '/'), adminPort, TOKEN,
                    json, api.getAddress().getPort(), route));
            Map<String, String> env = new HashMap<>(sqs.env());
            env.put("FERRY_CONFIG", file.toString());
            var out = new ByteArrayOutputStream();
            var err = new ByteArrayOutputStream();
            Map<String, String> cliEnv = new HashMap<>(System.getenv());
            cliEnv.putAll(env);
            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, cliEnv::get)).as(err.toString()).isZero();

            try (var ferry = FerryProcess.start(env, "run", "-c", file.toString())) {
                ferry.awaitLine("listening on 'trades'", LIMIT);
                WebDriver driver = browser();
                try {
                    scene.play(sqs, ferry, driver, adminPort);
                } finally {
                    driver.quit();
                }
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
            }
        } finally {
            letThrough.countDown(); // a request the slow sink still holds is answered now, not at its bound
            api.stop(0);
        }
    }

    /** Skips the test where there is no Chromium, unless CI requires it: then its absence fails the test. */
    private static void needBrowser() {
        boolean browser = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!"1".equals(System.getenv("FERRY_REQUIRE_BROWSER"))) {
            Assumptions.assumeTrue(browser, "no Chromium here (.ci/run installs it and requires this test)");
        }
        assertThat(browser).as("chromium and chromedriver in /usr/bin").isTrue();
    }

    /** A headless Chromium through ChromeDriver, for the caller to quit. */
    private static WebDriver browser() {
        var service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .build();
        var options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1400,1000");
        return new ChromeDriver(service, options);
    }

    /** t1 to t4 of group acct-7: t2 refused while {@link #poisoned}, parked, t3 and t4 parked behind it; t1 delivered. */
    private void parkAcct7(LocalSqs sqs, FerryProcess ferry) {
        for (var trade : new String[] {"t1", "t2", "t3", "t4"}) {
            send(sqs, "acct-7", "{\"id\":\"" + trade + "\",\"account\":\"acct-7\"}");
        }
        assertThat(Await.until(LIMIT, () -> sqs.depth("trades-dlq.fifo") == 3)).as(ferry::output).isTrue();
        assertThat(delivered).containsExactly("t1");
    }

    /** {@code body} to trades.fifo in SQS message group {@code messageGroup}, deduplicated by the body. */
    private static void send(LocalSqs sqs, String messageGroup, String body) {
        sqs.client.sendMessage(b -> b.queueUrl(sqs.url("trades.fifo")).messageGroupId(messageGroup)
                .messageDeduplicationId(Integer.toHexString(body.hashCode())).messageBody(body));
    }

    /**
     * The sink's endpoint: 400 for t2 while poisoned, else 204, recording the order it accepted trades in; while
     * {@link #slow}, it holds each request until {@link #letThrough} opens (a bounded wait) before it accepts it.
     */
    private HttpServer api() throws Exception {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor()); // a request held holds no other
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String id = body.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
            if (poisoned && id.equals("t2")) {
                exchange.sendResponseHeaders(400, -1);
            } else {
                if (slow) {
                    try {
                        letThrough.await(LIMIT.toSeconds() * 2, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                delivered.add(id);
                exchange.sendResponseHeaders(204, -1);
            }
            exchange.close();
        });
        server.start();
        return server;
    }

    /**
     * A proxy in front of the admin address, as a sidecar is: it passes reads on with {@code X-Forwarded-For}, so Ferry
     * takes them for another host's and answers them only with the token; while {@link #proxyAnswersItself}, it answers
     * every read but the page's own with a page of its own (502, HTML), as one does when what is behind it is away.
     */
    private HttpServer proxy(int adminPort) throws Exception {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", exchange -> {
            try (exchange) {
                if (proxyAnswersItself && !exchange.getRequestURI().getPath().equals("/console")) {
                    byte[] page = "<html><body><h1>502 Bad Gateway</h1></body></html>".getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("Content-Type", "text/html");
                    exchange.sendResponseHeaders(502, page.length);
                    exchange.getResponseBody().write(page);
                    return;
                }
                var ferry = (HttpURLConnection) URI.create("http://127.0.0.1:" + adminPort + exchange.getRequestURI()).toURL()
                        .openConnection();
                ferry.setConnectTimeout(10_000);
                ferry.setReadTimeout(30_000);
                ferry.setRequestProperty("X-Forwarded-For", "203.0.113.7");
                String authorization = exchange.getRequestHeaders().getFirst("Authorization");
                if (authorization != null) {
                    ferry.setRequestProperty("Authorization", authorization);
                    if (exchange.getRequestURI().getPath().equals("/console/state")) {
                        readsWithAToken.incrementAndGet();
                    }
                }
                int status = ferry.getResponseCode();
                byte[] body;
                try (var in = status >= 400 ? ferry.getErrorStream() : ferry.getInputStream()) {
                    body = in == null ? new byte[0] : in.readAllBytes();
                }
                if (ferry.getContentType() != null) {
                    exchange.getResponseHeaders().set("Content-Type", ferry.getContentType());
                }
                exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.start();
        return server;
    }

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
