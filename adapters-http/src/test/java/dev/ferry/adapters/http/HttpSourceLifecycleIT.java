package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.model.FerryException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An ingest endpoint runs once: a start after its close is refused, saying so, where it used to return
 * quietly while nothing listened. Real servers on 127.0.0.1.
 *
 * <p>Not tested here: a start that fails after the bind (the JDK server's dispatcher thread refused)
 * cannot be brought about with real parts in a test; {@code IngestServer.start} stops that server itself.
 */
class HttpSourceLifecycleIT {

    private final List<HttpSource> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.reversed().forEach(HttpSource::close);
    }

    private HttpSource source(HttpSource.Builder builder) {
        var source = builder.name("lifecycle").auth(IngestAuth.none()).build();
        opened.add(source);
        return source;
    }

    @Test // a review: start() after close() returned the source as if it ran; clients got connection refused
    void aStartAfterClose_isRefused_sayingToBuildAnother_andNothingListens() {
        var source = source(HttpSource.builder()).start();
        int port = source.port();
        source.close();

        assertThatThrownBy(source::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'lifecycle'").hasMessageContaining("closed: build another");
        assertThatThrownBy(() -> connect(port)).as("the closed source's port takes no connection")
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void aSourceClosedBeforeItsStart_isNotStartedEither() {
        var source = source(HttpSource.builder());
        source.close();

        assertThatThrownBy(source::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed: build another");
        assertThatThrownBy(source::port).as("it listens on nothing").hasMessageContaining("not started");
    }

    @Test // the server is kept only once it runs: a start that failed leaves the source as if never started
    void aStartThatFailedAtItsBind_mayBeTriedAgain_onceThePortIsFree() throws Exception {
        HttpSource source;
        int port;
        try (var taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            port = taken.getLocalPort();
            source = source(HttpSource.builder().bind("127.0.0.1", port));
            assertThatThrownBy(source::start).isInstanceOf(FerryException.class).hasMessageContaining("cannot listen");
            assertThatThrownBy(source::port).as("nothing kept from the failed start").hasMessageContaining("not started");
        }

        assertThat(source.start().port()).as("the retry binds").isEqualTo(port);
        connect(port);
    }

    private static void connect(int port) throws IOException {
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
        }
    }
}
