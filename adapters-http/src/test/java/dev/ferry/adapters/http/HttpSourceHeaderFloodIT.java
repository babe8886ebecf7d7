package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.domain.testing.Await;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * A review: the headers of a request had no bound on their count. The JDK server reads them before the handler
 * runs, so before the credentials, the uploads' limit and their byte budget; an unfinished header holds about
 * 1.3 MB for the read timeout, and some hundreds of peers that each sent one took the heap. Past {@link
 * ReadDeadlines#MAX_READING_HEADERS} the oldest still reading its headers is cut off. Real sockets on 127.0.0.1.
 */
class HttpSourceHeaderFloodIT extends IngestEndpointFixture {

    /** A request that sends its request line and a few KiB of one header, and never ends it. */
    private Socket unfinishedHeaders(int port) throws IOException {
        var socket = new Socket();
        sockets.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.getOutputStream().write(("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + "a".repeat(4096))
                .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return socket;
    }

    /** Whether the server has closed the socket, seen without waiting (nothing is sent to an unfinished request). */
    private static boolean closed(Socket socket) {
        try {
            socket.setSoTimeout(1);
            return socket.getInputStream().read() == -1;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static long closedCount(List<Socket> flood) {
        return flood.stream().filter(HttpSourceHeaderFloodIT::closed).count();
    }

    @Test
    void unfinishedHeadersPastTheDefaultBound_areCutOff_andAGoodRequestIsAnswered() throws Exception {
        // a long read timeout: within the test, only the bound closes a connection
        var source = start(HttpSource.builder().auth(IngestAuth.none()).readTimeout(Duration.ofSeconds(60)));
        int past = 12;
        var flood = new ArrayList<Socket>();
        try {
            for (int i = 0; i < ReadDeadlines.MAX_READING_HEADERS + past; i++) {
                flood.add(unfinishedHeaders(source.port()));
            }
            Thread.sleep(ReadDeadlines.HEADERS_GRACE.toMillis() + 200); // past the grace a burst of handshakes has
            flood.add(unfinishedHeaders(source.port())); // a newcomer: those past the bound and the grace go
            assertThat(Await.until(Duration.ofSeconds(20), () -> closedCount(flood) >= past))
                    .as("%d past the bound cut off long before the read timeout, %d seen", past, closedCount(flood))
                    .isTrue();

            var response = post(source, "{\"id\":\"good\",\"type\":\"Good\"}");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            assertThat(handled).containsExactly("good");
        } finally {
            closeAll(flood, null, null);
        }
    }

    /** What a test opened, closed: its sockets, then its server and the server's deadlines (null: none of its own). */
    private static void closeAll(List<Socket> sockets, HttpServer server, ReadDeadlines deadlines) throws IOException {
        for (var socket : sockets) {
            socket.close();
        }
        if (server != null) {
            server.stop(0);
            deadlines.close();
        }
    }

    /** The server as IngestServer sets it up; the handler's first call is current(), as the endpoint's is. */
    private static HttpServer serving(ReadDeadlines deadlines) throws IOException {
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(deadlines.executor());
        server.createContext("/", ex -> {
            var deadline = deadlines.current();
            ex.getRequestBody().readAllBytes();
            deadline.done();
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
        return server;
    }

    @Test
    void unfinishedHeadersPastASmallBound_andItsGrace_areCutOff_theYoungestKept() throws Exception {
        var deadlines = new ReadDeadlines("flood", Duration.ofSeconds(60), ex -> { }, 8, Duration.ofMillis(100));
        var server = serving(deadlines);
        var flood = new ArrayList<Socket>();
        try {
            for (int i = 0; i < 20; i++) {
                flood.add(unfinishedHeaders(server.getAddress().getPort()));
            }
            Thread.sleep(300); // past the grace
            flood.add(unfinishedHeaders(server.getAddress().getPort()));
            assertThat(Await.until(Duration.ofSeconds(20), () -> closedCount(flood) >= 13))
                    .as("the 13 past the bound cut off long before the read timeout, %d seen", closedCount(flood))
                    .isTrue();
            assertThat(closedCount(flood)).as("the 8 youngest kept").isEqualTo(13);

            var response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + server.getAddress().getPort() + "/events")).timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
        } finally {
            closeAll(flood, server, deadlines);
        }
    }

    @Test // a review: a burst of new TLS connections reads its handshakes while it reads its headers, a round trip
          // each — more than the bound at once within one round trip were cut off as a flood, healthy clients reset
    void aBurstWithinTheGrace_isAdmittedUpToFourTimesTheBound_thenTheOldestGo() throws Exception {
        var deadlines = new ReadDeadlines("burst", Duration.ofSeconds(60), ex -> { }, 8, Duration.ofSeconds(60));
        var server = serving(deadlines);
        var burst = new ArrayList<Socket>();
        try {
            for (int i = 0; i < 40; i++) {
                burst.add(unfinishedHeaders(server.getAddress().getPort()));
            }
            assertThat(Await.until(Duration.ofSeconds(20), () -> closedCount(burst) >= 8))
                    .as("past four times the bound (32), the oldest go, %d seen", closedCount(burst)).isTrue();
            assertThat(closedCount(burst)).as("the 32 youngest admitted, within the grace").isEqualTo(8);
        } finally {
            closeAll(burst, server, deadlines);
        }
    }

    @Test // a last look: those within the grace were looked at again only as a request came — 512 unfinished ones sent
          // within a second to a quiet source held the heap for the whole read timeout
    void unfinishedHeadersPastTheBound_areCutOffOnceTheGraceIsOver_withNoRequestAfterThem() throws Exception {
        var deadlines = new ReadDeadlines("quiet", Duration.ofSeconds(60), ex -> { }, 8, Duration.ofMillis(100));
        var server = serving(deadlines);
        var flood = new ArrayList<Socket>();
        try {
            for (int i = 0; i < 32; i++) {
                flood.add(unfinishedHeaders(server.getAddress().getPort()));
            }
            assertThat(Await.until(Duration.ofSeconds(20), () -> closedCount(flood) >= 24))
                    .as("the 24 past the bound cut off once past the grace, nothing sent after them; %d seen",
                            closedCount(flood)).isTrue();
            assertThat(closedCount(flood)).as("the 8 youngest kept").isEqualTo(24);
        } finally {
            closeAll(flood, server, deadlines);
        }
    }

    @Test // a last look: the trim on the timer wrote its warning there — with the log blocked (stdout backed up), the
          // source's one deadline timer waited for it: no read deadline fired, and a slow request held its thread
    void aBlockedLog_holdsNoDeadline_afterTheTimerCutAFlood() throws Exception {
        var entered = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var blocking = new java.util.logging.Handler() {
            @Override
            public void publish(LogRecord record) {
                entered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(ReadDeadlines.class.getName()); // held: java.util.logging keeps loggers weakly
        log.setLevel(Level.WARNING); // the tests' logging.properties lets only SEVERE through
        log.addHandler(blocking);
        log.setUseParentHandlers(false);
        // a grace long enough that only the timer cuts: the flood's own requests find none past it
        var deadlines = new ReadDeadlines("blocked", Duration.ofSeconds(2), ex -> { }, 2, Duration.ofMillis(500));
        var server = serving(deadlines);
        var flood = new ArrayList<Socket>();
        try {
            for (int i = 0; i < 4; i++) {
                flood.add(unfinishedHeaders(server.getAddress().getPort()));
            }
            assertThat(entered.await(20, TimeUnit.SECONDS)).as("the cut off said, and its line held").isTrue();

            var slow = new Socket(); // its headers read, its body never sent: its read deadline (2 s) closes it
            sockets.add(slow);
            slow.connect(new InetSocketAddress("127.0.0.1", server.getAddress().getPort()), 5_000);
            slow.getOutputStream().write("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            slow.getOutputStream().flush();
            assertThat(Await.until(Duration.ofSeconds(15), () -> closed(slow)))
                    .as("closed by its read deadline while the warning waits for the log").isTrue();
        } finally {
            release.countDown();
            log.removeHandler(blocking);
            log.setLevel(null);
            log.setUseParentHandlers(true);
            closeAll(flood, server, deadlines);
        }
    }

    @Test // a review: a throw as a request started reading its headers (an OutOfMemoryError in the bound's set,
          // likeliest in the flood it bounds) skipped the exchange: the JDK had taken the connection out of its
          // selector and sets no maxReqTime by default, so nothing answered or closed it, its socket held for good
    void aHeaderBoundThatThrows_leavesTheRequestServed() throws Exception {
        var deadlines = new ReadDeadlines("thrown", Duration.ofSeconds(60), ex -> { }, 8, Duration.ofSeconds(1));
        var throwing = new ThrowingOnce();
        var readingHeaders = ReadDeadlines.class.getDeclaredField("readingHeaders"); // the bound's own: no seam for it
        readingHeaders.setAccessible(true);
        readingHeaders.set(deadlines, throwing);
        var server = serving(deadlines);
        try {
            var uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/events");
            for (int i = 0; i < 2; i++) { // the first one's add throws; the second one's as before
                var response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as("request %d answered", i).isEqualTo(200);
            }
            assertThat(throwing.thrown.get()).as("the first add threw").isTrue();
        } finally {
            closeAll(List.of(), server, deadlines);
        }
    }

    @Test // a review of the fix above: the deadline was armed before it was made the thread's; should that throw (a
          // fresh thread's ThreadLocal map, no memory), the handler was given another, and the armed one, unseen,
          // interrupted the request at the read timeout while its handler still worked on it
    void aDeadlineThatCannotBeMadeTheThreads_isNotArmed_andTheRequestIsNotCutShort() throws Exception {
        var deadlines = new ReadDeadlines("unseen", Duration.ofSeconds(1), ex -> { }, 8, Duration.ofSeconds(1));
        var throwing = new ThreadLocal<ReadDeadlines.Deadline>() {
            final AtomicBoolean thrown = new AtomicBoolean();

            @Override
            public void set(ReadDeadlines.Deadline value) {
                if (thrown.compareAndSet(false, true)) {
                    throw new OutOfMemoryError("test");
                }
                super.set(value);
            }
        };
        var current = ReadDeadlines.class.getDeclaredField("current"); // the thread's own: no seam for it
        current.setAccessible(true);
        current.set(deadlines, throwing);
        var server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(deadlines.executor());
        server.createContext("/", ex -> {
            var deadline = deadlines.current();
            ex.getRequestBody().readAllBytes();
            deadline.done();
            try {
                Thread.sleep(2_000); // at work past the read timeout, the request read whole
            } catch (InterruptedException e) {
                ex.close(); // cut short: no answer
                return;
            }
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
        try {
            var response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + server.getAddress().getPort() + "/events")).timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as("answered, not cut short at the read timeout").isEqualTo(200);
            assertThat(throwing.thrown.get()).as("the first set threw").isTrue();
        } finally {
            closeAll(List.of(), server, deadlines);
        }
    }

    @Test // a review: only a rejection was caught as a later look at those reading their headers was queued on the
          // timer; an OutOfMemoryError there (no heap for the task, likeliest in the flood this bounds) left the look
          // marked queued for good: no request after it queued one, and a flood sent to a quiet source after that held
          // its sockets and the heap for the whole read timeout
    void aLookThatCouldNotBeQueued_isQueuedByTheNextRequest_andCutsOffWithNoRequestAfterIt() throws Exception {
        var grace = Duration.ofSeconds(2); // long enough that the fourth comes within it: only the timer cuts
        var deadlines = new ReadDeadlines("unqueued", Duration.ofSeconds(60), ex -> { }, 2, grace);
        var timer = new LookFailingOnce(grace);
        var timerField = ReadDeadlines.class.getDeclaredField("timer"); // the source's own: no seam for it
        timerField.setAccessible(true);
        timerField.set(deadlines, timer);
        var server = serving(deadlines);
        var flood = new ArrayList<Socket>();
        try {
            for (int i = 0; i < 3; i++) { // the third past the bound, within the grace: queueing its look throws
                flood.add(unfinishedHeaders(server.getAddress().getPort()));
            }
            assertThat(timer.thrown.await(20, TimeUnit.SECONDS)).as("queueing the first look threw").isTrue();
            flood.add(unfinishedHeaders(server.getAddress().getPort())); // queues the look again; nothing after it
            assertThat(Await.until(Duration.ofSeconds(20), () -> closedCount(flood) >= 2))
                    .as("the 2 past the bound cut off on the timer once past the grace, long before the read timeout; "
                            + "%d seen", closedCount(flood)).isTrue();
            assertThat(closedCount(flood)).as("the 2 youngest kept").isEqualTo(2);
        } finally {
            closeAll(flood, server, deadlines);
        }
    }

    /**
     * The deadline timer, whose first look at those reading their headers (due within the grace; a read deadline is
     * due only at the read timeout) cannot be queued, as with no heap for the task.
     */
    private static final class LookFailingOnce extends ScheduledThreadPoolExecutor {
        final CountDownLatch thrown = new CountDownLatch(1);
        private final AtomicBoolean failed = new AtomicBoolean();
        private final long graceNanos;

        LookFailingOnce(Duration grace) {
            super(1);
            this.graceNanos = grace.toNanos();
            setRemoveOnCancelPolicy(true);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
            if (unit.toNanos(delay) <= graceNanos + 1 && failed.compareAndSet(false, true)) {
                thrown.countDown();
                throw new OutOfMemoryError("test");
            }
            return super.schedule(task, delay, unit);
        }
    }

    /** The set of those reading their headers, whose first add throws as a full heap would. */
    private static final class ThrowingOnce extends LinkedHashSet<ReadDeadlines.Deadline> {
        final AtomicBoolean thrown = new AtomicBoolean();

        @Override
        public boolean add(ReadDeadlines.Deadline deadline) {
            if (thrown.compareAndSet(false, true)) {
                throw new OutOfMemoryError("test");
            }
            return super.add(deadline);
        }
    }
}
