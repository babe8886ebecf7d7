package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.FerryConfig;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Clients of the admin and metrics addresses that send slowly, stop, or send more than any endpoint takes, over
 * sockets on 127.0.0.1: each is cut off within the request deadline, and the health probes go on answering.
 */
class AdminRequestsTest {

    private static final Duration DEADLINE = Duration.ofMillis(500);

    private final Observability observability = new Observability(DEADLINE);
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (var socket : sockets) {
            socket.close();
        }
        observability.close();
    }

    private int serve() {
        observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
        return observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
    }

    private Socket open(int port, String sent) throws IOException {
        var socket = new Socket("127.0.0.1", port);
        sockets.add(socket);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(sent.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return socket;
    }

    /** A socket with a small receive buffer, sending {@code request} over and over from a thread of its own, reading nothing. */
    private Socket pipelining(int port, String request) throws IOException {
        var socket = new Socket();
        sockets.add(socket);
        socket.setReceiveBufferSize(4096);
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        byte[] bytes = request.getBytes(StandardCharsets.US_ASCII);
        Thread.ofPlatform().daemon().start(() -> {
            try {
                for (int i = 0; i < 20_000; i++) {
                    socket.getOutputStream().write(bytes);
                }
            } catch (IOException closed) {
                // the server cut it off, or the test closed it
            }
        });
        return socket;
    }

    /** -1 once the server closed the connection, within the socket's timeout; what it answered otherwise. */
    private static String untilClosed(Socket socket) throws IOException {
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }

    @Test
    void aClientThatStopsMidRequest_isCutOffAtTheDeadline() throws IOException {
        // a byte of the request line, then nothing: the thread reading it was held for as long as the client kept the
        // socket open — on JDK 21-23 a virtual thread pinned to its carrier, one per core stalling the whole process
        int port = serve();
        var stalled = open(port, "G");
        long start = System.nanoTime();
        String answered;
        try {
            answered = untilClosed(stalled);
        } catch (SocketTimeoutException stillOpen) {
            answered = "still open after 10 s";
        }
        assertThat(answered).as("nothing answered, the connection closed").isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(9));
    }

    @Test
    void aBodyThatNeverComes_isCutOffAtTheDeadline_andTheProbesGoOn() throws Exception {
        // headers that promise a body it never sends: the answer waited for nothing, but closing the exchange drained
        // the body on the request's thread, with no deadline
        int port = serve();
        var stalled = new ArrayList<Socket>();
        for (int i = 0; i < Runtime.getRuntime().availableProcessors() + 2; i++) {
            stalled.add(open(port, "POST /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nx"));
        }
        var live = open(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertThat(untilClosed(live)).startsWith("HTTP/1.1 200");
        for (var socket : stalled) {
            String answered;
            try {
                answered = untilClosed(socket);
            } catch (SocketTimeoutException stillOpen) {
                answered = "still open after 10 s";
            }
            assertThat(answered).as("no answer to a request never read whole").isEmpty();
        }
    }

    @Test
    void aBodyLargerThanAnyEndpointTakes_isRefused() throws IOException {
        int port = serve();
        var large = open(port, "POST /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                + (AdminRequests.MAX_BODY + 1) + "\r\n\r\n");
        assertThat(untilClosed(large)).startsWith("HTTP/1.1 413");
    }

    @Test
    void aRequestSentInTime_isAnsweredAsBefore() throws IOException {
        int port = serve();
        var slow = open(port, "GET /health/live HTTP/1.1\r\n");
        slow.getOutputStream().write("Host: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(untilClosed(slow)).startsWith("HTTP/1.1 200").contains("\"status\"");
    }

    @Test
    void requestsCutOffOrRefused_leaveNoConnectionInTheServersBooks() throws Exception {
        // closed by the handler instead of thrown out of it, each such connection stayed counted by the JDK's server
        // until it stopped: memory without bound, and with its connection limit set, every later connection refused
        int limit = 6;
        var process = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djdk.httpserver.maxConnections=" + limit, "-cp", System.getProperty("java.class.path"),
                AdminServerProcess.class.getName(), Long.toString(DEADLINE.toMillis()))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            var line = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    return null;
                }
            }).get(30, TimeUnit.SECONDS);
            assertThat(line).startsWith("port ");
            int port = Integer.parseInt(line.substring("port ".length()).trim());
            for (int i = 0; i < limit * 2; i++) {
                switch (i % 3) {
                    case 0 -> { // a body promised, then the client goes
                        open(port, "POST /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nab").close();
                    }
                    case 1 -> { // a body promised and never sent: cut off at the deadline
                        var stalled = open(port, "POST /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n");
                        assertThat(untilClosed(stalled)).isEmpty();
                    }
                    default -> { // a body too large, refused
                        var large = open(port, "POST /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                                + (AdminRequests.MAX_BODY + 1) + "\r\n\r\n");
                        assertThat(untilClosed(large)).startsWith("HTTP/1.1 413");
                    }
                }
            }
            for (int i = 0; i < limit; i++) { // small answers, pipelined and never read: cut off as their close flushed them
                var unread = pipelining(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                Thread.sleep(DEADLINE.toMillis() * 3);
                unread.close();
            }
            Thread.sleep(DEADLINE.toMillis() * 2); // the first kind's reads end by now, at the latest by the deadline
            var live = open(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            String answered;
            try {
                answered = untilClosed(live);
            } catch (java.net.SocketException refused) {
                answered = "refused: " + refused;
            }
            assertThat(answered).as("answered with %d connections cut off before", limit * 3).startsWith("HTTP/1.1 200");
        } finally {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aClientThatDoesNotReadItsAnswer_isCutOffAtTheDeadline() throws Exception {
        // the answer's writes had no deadline: a client that asked for /metrics and read nothing held the request's
        // thread and socket for as long as it kept the connection open
        for (int i = 0; i < 120_000; i++) { // an answer larger than both ends' socket buffers
            observability.registry().counter("ferry.test.filler", "n", Integer.toString(i));
        }
        int port = serve();
        var socket = new Socket();
        sockets.add(socket);
        socket.setReceiveBufferSize(4096);
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        Thread.sleep(DEADLINE.toMillis() * (AdminRequests.WRITE_FACTOR + 5)); // reading nothing, past the write's deadline
        byte[] got;
        try {
            got = socket.getInputStream().readAllBytes();
        } catch (java.net.SocketException reset) {
            got = null; // cut off: what was under way is not sent
        }
        if (got != null) {
            String head = new String(got, 0, Math.min(got.length, 400), StandardCharsets.US_ASCII);
            var length = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
            int bodyStart = head.indexOf("\r\n\r\n") + 4;
            long declared = length.find() ? Long.parseLong(length.group(1)) : -1;
            assertThat((long) (got.length - bodyStart)).as("the answer cut short (declared %d)", declared).isLessThan(declared);
        }
    }

    @Test
    void headsOnOneConnection_areEachAnswered_andItStaysOpen() throws Exception {
        // a review: a HEAD's headers, written within the deadline, closed the exchange's timed stream inside it — every
        // HEAD taken for a failed write, its connection closed after the first
        int port = serve();
        var socket = open(port, "HEAD /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                + "HEAD /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        var in = socket.getInputStream();
        var got = new StringBuilder();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (got.toString().split("HTTP/1.1 200", -1).length - 1 < 2 && System.nanoTime() < deadline) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            got.append((char) b);
        }
        assertThat(got.toString().split("HTTP/1.1 200", -1).length - 1).as(got.toString()).isEqualTo(2);
        socket.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(untilClosed(socket)).as("the connection kept open after the HEADs").contains("HTTP/1.1 200");
    }

    @Test
    void anAnswerReadSlowly_arrivesWhole() throws Exception {
        // the deadline bounds a client that takes nothing, not one whose whole answer takes longer than it
        for (int i = 0; i < 150_000; i++) { // ~6 MB: more than the socket buffers hold, so the write waits for the reader
            observability.registry().counter("ferry.test.filler", "n", Integer.toString(i));
        }
        int port = serve();
        var socket = new Socket();
        sockets.add(socket);
        socket.setReceiveBufferSize(8 * 1024);
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        var got = new java.io.ByteArrayOutputStream();
        var in = socket.getInputStream();
        byte[] chunk = new byte[8 * 1024];
        long start = System.nanoTime();
        for (int n; (n = in.read(chunk)) > 0; ) {
            got.write(chunk, 0, n);
            Thread.sleep(5); // slowly (about 1 MB/s), but steadily: its whole answer takes seconds
        }
        String head = got.toString(StandardCharsets.US_ASCII);
        var length = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
        assertThat(length.find()).isTrue();
        assertThat((long) (got.size() - (head.indexOf("\r\n\r\n") + 4))).isEqualTo(Long.parseLong(length.group(1)));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("read for longer than the deadline").isGreaterThan(DEADLINE);
    }

    @Test
    void beforeJdk24_requestsRunOnPlatformThreads() throws Exception {
        // a virtual thread blocked in the JDK server's synchronized read pins its carrier before JDK 24
        assertThat(AdminRequests.virtualThreadsSafe(21)).isFalse();
        assertThat(AdminRequests.virtualThreadsSafe(23)).isFalse();
        assertThat(AdminRequests.virtualThreadsSafe(24)).isTrue();
        for (int feature : new int[] {21, 25}) {
            try (var requests = new AdminRequests(DEADLINE, feature)) {
                var virtual = new CompletableFuture<Boolean>();
                requests.executor().execute(() -> virtual.complete(Thread.currentThread().isVirtual()));
                assertThat(virtual.get(5, TimeUnit.SECONDS)).as("JDK %d", feature).isEqualTo(feature >= 24);
            }
        }
    }

    @Test // a review: no bound on the threads a flood of stalled clients held — one each, until its deadline; then
          // (thirty-sixth round) a dozen such clients a second kept the bounded slots full, and every probe was closed
          // unanswered: the oldest stalled one is cut off for a newcomer now, and only handlers at work refuse it
    void pastTheMostServedAtOnce_theOldestStalledIsCutOff_andOnlyHandlersAtWorkRefuseANewcomer() throws Exception {
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        var working = new java.util.concurrent.CountDownLatch(1);
        var atWork = new java.util.concurrent.CountDownLatch(2);
        try (var requests = new AdminRequests(Duration.ofMinutes(1), Runtime.version().feature(), 2)) {
            server.setExecutor(requests.executor());
            server.createContext("/", exchange -> {
                requests.read(exchange);
                if (exchange.getRequestURI().getPath().equals("/slow")) {
                    atWork.countDown();
                    try {
                        working.await(20, TimeUnit.SECONDS); // a handler at work (a ledger's listing)
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                exchange.sendResponseHeaders(204, -1);
                exchange.close();
            });
            server.start();
            int port = server.getAddress().getPort();
            var stalled = new ArrayList<Socket>();
            for (int i = 0; i < 6; i++) {
                stalled.add(open(port, "G")); // each holds a request's thread: within the minute's deadline, for good here
                Thread.sleep(20);
            }
            for (int i = 0; i < 3; i++) {
                var probe = open(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                assertThat(untilClosed(probe)).as("probe %d, past a flood of stalled clients", i).startsWith("HTTP/1.1 204");
            }
            assertThat(closedByServer(stalled.getFirst())).as("the oldest stalled client, cut off").isTrue();

            var slow = List.of(open(port, "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
                    open(port, "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
            assertThat(atWork.await(10, TimeUnit.SECONDS)).as("both at work in their handler").isTrue();
            var third = open(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            String answered;
            try {
                answered = untilClosed(third);
            } catch (SocketTimeoutException stillOpen) {
                answered = "still open after 10 s";
            } catch (java.net.SocketException reset) { // closed with the request unread: reset
                answered = "";
            }
            assertThat(answered).as("every slot's handler at work: closed, unanswered").isEmpty();
            working.countDown();
            for (var s : slow) {
                assertThat(untilClosed(s)).as("a handler at work is never cut off").startsWith("HTTP/1.1 204");
            }
        } finally {
            working.countDown();
            server.stop(0);
        }
    }

    /** Whether the server closed {@code socket} (its read ends, or is reset) within the socket's timeout. */
    private static boolean closedByServer(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketException reset) {
            return true;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        }
    }

    @Test // a review: one pool of slots for both servers; stalled clients on the metrics address starved the admin's probes
    void connectionsStalledOnOneServer_leaveAnotherServerOfTheSameRequestsServing() throws Exception {
        var metrics = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        var admin = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        var working = new java.util.concurrent.CountDownLatch(1);
        var atWork = new java.util.concurrent.CountDownLatch(2);
        try (var requests = new AdminRequests(Duration.ofMinutes(1), Runtime.version().feature(), 2)) {
            for (var server : List.of(metrics, admin)) {
                server.setExecutor(requests.executor());
                server.createContext("/", exchange -> {
                    requests.read(exchange);
                    if (exchange.getRequestURI().getPath().equals("/slow")) {
                        atWork.countDown();
                        try {
                            working.await(20, TimeUnit.SECONDS); // its handler at work: never cut off for a newcomer
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    exchange.sendResponseHeaders(204, -1);
                    exchange.close();
                });
                server.start();
            }
            int flooded = metrics.getAddress().getPort();
            open(flooded, "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"); // each holds one of
            open(flooded, "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"); // its two slots
            assertThat(atWork.await(10, TimeUnit.SECONDS)).as("both at work in their handler").isTrue();
            var refused = open(flooded, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            String past;
            try {
                past = untilClosed(refused);
            } catch (java.net.SocketException reset) {
                past = "";
            }
            assertThat(past).as("the flooded server is full").isEmpty();

            var probe = open(admin.getAddress().getPort(), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            assertThat(untilClosed(probe)).as("the other server answers").startsWith("HTTP/1.1 204");
        } finally {
            working.countDown();
            metrics.stop(0);
            admin.stop(0);
        }
    }
}
