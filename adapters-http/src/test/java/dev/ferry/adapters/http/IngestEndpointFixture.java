package dev.ferry.adapters.http;

import dev.ferry.domain.handle.Handler;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;

/**
 * Ingest endpoints with a real listener behind them, called on 127.0.0.1 by the JDK's client and over raw
 * sockets (a body sent in part, an answer read by hand); what a test opened is closed after it.
 */
abstract class IngestEndpointFixture {

    final List<AutoCloseable> opened = new ArrayList<>();
    final List<Socket> sockets = new ArrayList<>();
    final List<String> handled = new CopyOnWriteArrayList<>();
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    /** Records each event's key, and is done with it. */
    final Handler handler = (event, delivery) -> {
        handled.add(event.key());
        return Outcome.done();
    };

    @AfterEach
    void close() throws Exception {
        for (var socket : sockets) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closed already
            }
        }
        for (var c : opened.reversed()) {
            c.close();
        }
        client.close();
    }

    /** The builder's source, started, with a listener behind it that runs {@link #handler}; both closed after the test. */
    HttpSource start(HttpSource.Builder builder) {
        var source = builder.build().start();
        opened.add(source);
        var listener = Listener.builder(source, source, HttpSourceIT.DECODER, handler)
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(30))
                        .shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start();
        opened.add(listener);
        return source;
    }

    HttpResponse<String> post(HttpSource source, String body, String... headers) throws Exception {
        var request = HttpRequest.newBuilder(source.uri()).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Connects and sends the headers of a POST with {@code contentLength}, then {@code start} of the body. */
    Socket upload(HttpSource source, int contentLength, String start) throws IOException {
        var socket = new Socket();
        sockets.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", source.port()), 5_000);
        socket.setSoTimeout(10_000);
        var out = socket.getOutputStream();
        out.write(("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + contentLength + "\r\n\r\n" + start).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    /** The status line and headers of the next response; throws SocketTimeoutException if none comes. */
    static String head(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        var head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed after: " + head);
            }
            head.append((char) c);
        }
        return head.toString();
    }

    /** Whether the server closes the connection (end of stream or reset) within {@code limit}. */
    static boolean closedByServer(Socket socket, Duration limit) throws IOException {
        socket.setSoTimeout((int) limit.toMillis());
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            InputStream in = socket.getInputStream();
            while (in.read() != -1) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException reset) {
            return true;
        }
    }
}
