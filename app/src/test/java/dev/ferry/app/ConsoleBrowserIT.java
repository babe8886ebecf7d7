package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.domain.testing.Await;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The operator console in a real browser (Debian's headless Chromium through ChromeDriver), on the
 * packaged {@code ferry.jar} over a real SQS server: a poison message parks its group; the operator
 * looks an event up, sees the parked group, gives the admin token and releases it, and watches the
 * group's messages arrive at the sink in order; then redrives a dead-letter queue from the console and
 * watches it finish. Saves {@code target/console.png}, which
 * {@code docs/console.png} (shown in the README) is a copy of.
 *
 * <p>Needs {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver}; {@code .ci/run} installs them
 * and sets {@code FERRY_REQUIRE_BROWSER=1}, so in CI their absence fails the test instead of skipping it.
 */
class ConsoleBrowserIT {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final String TOKEN = "console-test-token-0123456789";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private final List<String> delivered = new CopyOnWriteArrayList<>();
    private volatile boolean poisoned = true;

    @Test
    void anOperator_looksAnEventUp_seesTheParkedGroup_andReleasesIt_inOrder(@TempDir Path dir) throws Exception {
        boolean browser = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!"1".equals(System.getenv("FERRY_REQUIRE_BROWSER"))) {
            Assumptions.assumeTrue(browser, "no Chromium here (.ci/run installs it and requires this test)");
        }
        assertThat(browser).as("chromium and chromedriver in /usr/bin").isTrue();
        var api = api();
        try (var sqs = new LocalSqs()) {
            int adminPort = freePort();
            var file = dir.resolve("ferry.yaml");
            Files.writeString(file, """
                    aws: {region: us-east-1, endpoint: "%s"}
                    ledger: {kind: mvstore, path: "%s"}
                    admin: {listen: "127.0.0.1:%d", token: "%s"}
                    listener: {max-attempts: 1}
                    sources:
                      trades:
                        sqs: {queue: trades.fifo, max-wait: 1s}
                        format: json
                        json: {id: /id, group: /account}
                        on-poison: park
                    sinks:
                      ledger-api: {type: http, url: "http://127.0.0.1:%d/trades"}
                    routes:
                      - to: [ledger-api]
                    """.formatted(sqs.endpoint(), dir.resolve("ledger.db").toString().replace('\\', '/'), adminPort, TOKEN,
                    api.getAddress().getPort()));
            Map<String, String> env = new HashMap<>(sqs.env());
            env.put("FERRY_CONFIG", file.toString());
            var out = new ByteArrayOutputStream();
            var err = new ByteArrayOutputStream();
            Map<String, String> cliEnv = new HashMap<>(System.getenv());
            cliEnv.putAll(env);
            assertThat(Ferry.run(new String[] {"queues", "create"}, out, err, cliEnv::get)).as(err.toString()).isZero();

            try (var ferry = FerryProcess.start(env, "run", "-c", file.toString())) {
                ferry.awaitLine("listening on 'trades'", LIMIT);
                for (var trade : new String[] {"t1", "t2", "t3", "t4"}) {
                    sqs.client.sendMessage(b -> b.queueUrl(sqs.url("trades.fifo")).messageGroupId("acct-7")
                            .messageDeduplicationId(trade).messageBody("{\"id\":\"" + trade + "\",\"account\":\"acct-7\"}"));
                }
                assertThat(Await.until(LIMIT, () -> sqs.depth("trades-dlq.fifo") == 3)).as(ferry::output).isTrue();
                assertThat(delivered).containsExactly("t1");

                var service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                        .build();
                var options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                        .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                "--window-size=1400,1000");
                WebDriver driver = new ChromeDriver(service, options);
                try {
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
                    wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
                        d.findElement(By.cssSelector("button.release-skip[data-group='acct-7']")).click();
                        return true;
                    });
                    var asked = wait.until(org.openqa.selenium.support.ui.ExpectedConditions.alertIsPresent());
                    assertThat(asked.getText()).startsWith("Drop the head ").contains(" of group acct-7 (trades)");
                    asked.dismiss();
                    assertThat(driver.findElement(By.id("release-result")).isDisplayed()).as("nothing sent").isFalse();
                    // the console redraws its lists as it refreshes: a button found just before a redraw is gone, so find it again
                    wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
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
                } finally {
                    driver.quit();
                }
                assertThat(ferry.terminate(Duration.ofSeconds(30))).isZero();
            }
        } finally {
            api.stop(0);
        }
    }

    /** The sink's endpoint: 400 for t2 while poisoned, else 204, recording the order it accepted trades in. */
    private HttpServer api() throws Exception {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String id = body.replaceAll(".*\"id\":\"([^\"]+)\".*", "$1");
            if (poisoned && id.equals("t2")) {
                exchange.sendResponseHeaders(400, -1);
            } else {
                delivered.add(id);
                exchange.sendResponseHeaders(204, -1);
            }
            exchange.close();
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
