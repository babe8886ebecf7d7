package dev.ferry.domain.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A port on 127.0.0.1 that refuses connections until {@link #open}, then forwards each to a server already running: a
 * dependency that comes up late, with what it holds made before (a queue), so nothing is seen half made.
 */
public final class LateEndpoint implements AutoCloseable {

    private final int port;
    private final int targetPort;
    private final List<java.io.Closeable> open = new CopyOnWriteArrayList<>();

    public LateEndpoint(int targetPort) throws IOException {
        try (var probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            this.port = probe.getLocalPort();
        }
        this.targetPort = targetPort;
    }

    /** Where it listens, once open. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** From now on, connections are taken and forwarded. */
    public void open() throws IOException {
        var server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress("127.0.0.1", port));
        open.add(server);
        Thread.ofVirtual().name("late-endpoint-" + port).start(() -> {
            while (!server.isClosed()) {
                try {
                    var in = server.accept();
                    var out = new Socket("127.0.0.1", targetPort);
                    open.add(in);
                    open.add(out);
                    pipe(in, out);
                    pipe(out, in);
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    private static void pipe(Socket from, Socket to) {
        Thread.ofVirtual().start(() -> {
            try (from; to) {
                from.getInputStream().transferTo(to.getOutputStream());
            } catch (IOException gone) {
                // either side closed: both go
            }
        });
    }

    @Override
    public void close() {
        for (var c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
