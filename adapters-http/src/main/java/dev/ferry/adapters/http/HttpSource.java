package dev.ferry.adapters.http;

import dev.ferry.adapters.http.IngestRequest.Item;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP ingest endpoint as Ferry's {@link Source} and {@link Acknowledger}: clients POST one event (a JSON
 * object) or a batch (a JSON array of objects); each event becomes a delivery the listener handles like any other,
 * and the request is answered once every one of them is settled.
 *
 * <p>Answers: 200 when every event is done; 422 with the reason when an event is rejected or malformed
 * (dead-lettered); 429 with {@code Retry-After} when an event must be tried again later (throttled downstream, a
 * failure to retry) or when the endpoint is full (back-pressure); 400 for a body that is not an event or an array
 * of events; 401 / 403 for missing or wrong credentials (401 too for a signature out of its time window or used
 * before); 408 for a request not read within {@code readTimeout}; 413 for a body over the limit; 503 with {@code
 * Retry-After} while shutting down or when {@code maxUploads} requests are being read already. A batch reports a
 * status per event ({@code done}, {@code rejected}, {@code retry}) and its HTTP status is the one that asks most of
 * the client: any {@code retry} → 429, else any {@code rejected} → 422, else 200. The client sends again only the
 * events marked {@code retry}; an {@code Idempotency-Key} header (per request; in a batch suffixed with each
 * event's digest) is passed on as the deduplication id and given back as each result's {@code id}. A batch under
 * {@code X-Ferry-Group} is handled in its order, and once one of its events is answered {@code retry} the later
 * ones are too, unrun (see {@link IngestRequest}).
 *
 * <p>Runs on the JDK's built-in server (HTTP/1.1, keep-alive), a new thread per request (virtual from JDK 24, see
 * {@code ReadDeadlines}). A request's headers and body must arrive within {@code readTimeout}; at most {@code
 * maxUploads} bodies are read at once, and the bodies held, read or being read, take at most {@code maxUploadBytes}
 * until their answer is made, with the answers being written (one that does not fit is sent compact); the body is read before a request takes one of the {@code maxConcurrentRequests}
 * processing permits, and at most {@code capacity} events are accepted and not yet settled. Thread-safe.
 */
public final class HttpSource implements Source, Acknowledger {

    private static final Logger LOG = LoggerFactory.getLogger(HttpSource.class);

    private final String name;
    /** Left with the default name: one such source at a time may run in the JVM ({@link UnnamedSources}). */
    private final boolean unnamed;
    private final String host;
    private final int requestedPort;
    private final String path;
    private final Duration readTimeout;
    private final Semaphore capacity;
    private final LinkedBlockingQueue<Item> ready = new LinkedBlockingQueue<>();
    private final Handout handout;
    private final IngestEndpoint endpoint;
    /** Set once the server runs: never one that failed to start, so a start that failed may be tried again. */
    private volatile IngestServer server;
    /** A closed source answers 503 for good: it never starts again. */
    private volatile boolean closed;
    /** Null for plain HTTP. */
    private final javax.net.ssl.SSLContext tls;

    private HttpSource(Builder b) {
        this.tls = b.tls;
        this.name = b.name;
        this.unnamed = !b.named;
        this.host = b.host;
        this.requestedPort = b.port;
        this.path = b.path;
        this.readTimeout = b.readTimeout;
        this.capacity = new Semaphore(b.capacity);
        this.endpoint = new IngestEndpoint(new IngestEndpoint.Settings(b.name, b.path, b.auth, b.maxBodyBytes,
                b.maxEventsPerRequest, b.responseTimeout, b.readTimeout, b.signatureWindow, b.clock,
                b.maxConcurrentRequests, b.maxUploads, b.maxRememberedSignatures, b.maxUploadBytes), ready, capacity);
        this.handout = new Handout(name, ready, capacity, endpoint);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts listening; the port is known once this returns. A source left unnamed is refused
     * ({@link IllegalStateException}) while another one left unnamed runs in this JVM: the name is the
     * ledger scope of its events, and two under one name drop each other's equal ids as duplicates. A
     * source runs once: after {@link #close()} its start is refused too; build another.
     */
    public synchronized HttpSource start() {
        if (closed) { // a start after close() used to return quietly, listening on nothing
            throw new IllegalStateException("HTTP source '" + name + "' is closed: build another");
        }
        if (server != null) {
            return this;
        }
        if (unnamed) {
            UnnamedSources.claim(this); // before a port is taken
        }
        try {
            server = IngestServer.start(name, host, requestedPort, tls, readTimeout, endpoint);
        } catch (RuntimeException | Error e) {
            UnnamedSources.release(this); // a start that failed holds no name: the next unnamed one may start
            throw e;
        }
        LOG.info("HTTP source '{}' listening on {}", name, uri());
        return this;
    }

    public int port() {
        var running = server;
        if (running == null) {
            throw new IllegalStateException("HTTP source '" + name + "' is not started");
        }
        return running.port();
    }

    /** Where clients post events. */
    public URI uri() {
        return URI.create((tls != null ? "https://" : "http://") + host + ":" + port() + path);
    }

    @Override
    public String name() {
        return name;
    }

    /** Requests refused before the listener saw them, by status: a rotated token or a clock out of the window said. */
    public HttpRefusals refusals() {
        return endpoint.refusals;
    }

    /** Requests whose body is being read right now (at most {@code maxUploads}). */
    int uploading() {
        return endpoint.uploading();
    }

    /** Signatures remembered to refuse their replay. */
    int rememberedSignatures() {
        return endpoint.rememberedSignatures();
    }

    /** A client waits for the answer: a retry or throttle goes back to it at once (429), never held. */
    @Override
    public java.time.Duration maxHoldInHand() {
        return java.time.Duration.ZERO;
    }

    /** A request is this source's until it is answered: never handed to anyone else, so never stale. */
    @Override
    public boolean redeliversAfterLease() {
        return false;
    }

    // ---------------------------------------------------------------- the ports

    @Override
    public List<Delivery> poll(PollRequest request) {
        if (!closed && endpoint.isClosing()) {
            endpoint.open(); // a listener polls it again (the source outlived the one that stopped): it takes work in
            if (closed) {
                endpoint.closing(); // closed meanwhile: close() may have said closing before this opened it
            }
        }
        return handout.poll(request);
    }

    @Override
    public List<Settlement.Failure> settle(List<Settlement> settlements) {
        return handout.settle(settlements);
    }

    /** Nothing to extend: the client waits on the open request; settled ones are reported. */
    @Override
    public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        return deliveries.stream().filter(d -> !(d.receipt() instanceof Item item) || item.done.get()).toList();
    }

    /** The listener stops: new requests, and events queued and not handed out, are answered 503 (not left to time out). */
    @Override
    public void stopping() {
        endpoint.closing();
        endpoint.releaseUnpolled();
    }

    /** Answers 503 to new requests, releases events nobody polled, waits briefly for open requests, stops. */
    @Override
    public void close() {
        closed = true;
        try {
            endpoint.closing();
            endpoint.releaseUnpolled();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (endpoint.openRequests() > 0 && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            endpoint.giveBackHeld(); // the bodies of events handed out and never settled: the budget is the process's
            synchronized (this) {
                if (server != null) {
                    server.stop();
                }
            }
        } finally {
            UnnamedSources.release(this); // whatever the stop threw: the default name is not held for the JVM's life
        }
    }

    /** Builds an {@link HttpSource}; authentication must be chosen, even if it is {@link IngestAuth#none()}. */
    public static final class Builder {
        private String name = "http-ingest";
        private boolean named;
        private String host = "127.0.0.1";
        private int port = 0;
        private String path = "/events";
        private IngestAuth auth;
        private int maxBodyBytes = 1 << 20;
        private int maxEventsPerRequest = 1000;
        private int capacity = 1000;
        private int maxConcurrentRequests = 256;
        private Duration responseTimeout = Duration.ofSeconds(30);
        private Duration readTimeout = Duration.ofSeconds(10);
        private int maxUploads = 1000;
        private Duration signatureWindow = Duration.ofMinutes(5);
        private int maxRememberedSignatures = 250_000;
        private Clock clock = Clock.systemUTC();
        private javax.net.ssl.SSLContext tls;

        private Builder() {
        }

        /**
         * Serves HTTPS with the key and certificate of a PKCS12 keystore (e.g. made by
         * {@code keytool -genkeypair -storetype PKCS12} or {@code openssl pkcs12 -export}). Fails
         * here, naming the file, when it cannot be read or holds no key.
         */
        public Builder tls(java.nio.file.Path pkcs12, char[] password) {
            Objects.requireNonNull(pkcs12, "pkcs12");
            Objects.requireNonNull(password, "password");
            this.tls = IngestTls.context(pkcs12, password);
            return this;
        }

        /**
         * The source's name ({@code http-ingest} by default): its deliveries' source, so the ledger's scope of
         * their ids. Give each endpoint its own: a second one left unnamed is refused at its start.
         */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            this.named = true;
            return this;
        }

        /** The address to listen on: 127.0.0.1 and a free port by default. */
        public Builder bind(String host, int port) {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be 0..65535, was " + port);
            }
            this.host = Objects.requireNonNull(host, "host");
            this.port = port;
            return this;
        }

        public Builder path(String path) {
            if (path == null || !path.startsWith("/")) {
                throw new IllegalArgumentException("path must start with /, was '" + path + "'");
            }
            this.path = path;
            return this;
        }

        public Builder auth(IngestAuth auth) {
            this.auth = Objects.requireNonNull(auth, "auth");
            return this;
        }

        /** The largest body accepted (1 MiB by default); larger ones get 413. */
        public Builder maxBodyBytes(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxBodyBytes must be >= 1, was " + bytes);
            }
            this.maxBodyBytes = bytes;
            return this;
        }

        public Builder maxEventsPerRequest(int events) {
            if (events < 1) {
                throw new IllegalArgumentException("maxEventsPerRequest must be >= 1, was " + events);
            }
            this.maxEventsPerRequest = events;
            return this;
        }

        /** Events accepted and not yet settled (1000 by default); beyond it requests get 429. */
        public Builder capacity(int events) {
            if (events < 1) {
                throw new IllegalArgumentException("capacity must be >= 1, was " + events);
            }
            this.capacity = events;
            return this;
        }

        /** Requests handed over at once, their body read (256 by default); beyond it requests get 429. */
        public Builder maxConcurrentRequests(int requests) {
            if (requests < 1) {
                throw new IllegalArgumentException("maxConcurrentRequests must be >= 1, was " + requests);
            }
            this.maxConcurrentRequests = requests;
            return this;
        }

        /** How long a request waits for its events to be settled (30 s) before answering 429 for the rest. */
        public Builder responseTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("responseTimeout must be > 0, was " + timeout);
            }
            this.responseTimeout = timeout;
            return this;
        }

        /**
         * How long a request may take to arrive, headers and body (10 s by default): a client that
         * sends slower is answered 408 and its connection closed.
         */
        public Builder readTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("readTimeout must be > 0, was " + timeout);
            }
            this.readTimeout = timeout;
            return this;
        }

        /**
         * The bytes bodies and answers hold at once (a quarter of the heap by default, shared by every HTTP source that
         * sets none): beyond it 503 at once — slow senders at the limit, needing no valid signature, ran the heap out. A
         * body counts its Content-Length ({@code maxBodyBytes} while chunked) until its answer is made and its events are
         * settled; an answer while written, at most half of it in all (past it, compact): slow readers held it all.
         */
        public Builder maxUploadBytes(long bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxUploadBytes must be >= 1024, was " + bytes);
            }
            this.maxUploadBytes = bytes;
            return this;
        }

        private long maxUploadBytes = -1; // the process's shared quarter of the heap

        /** Requests whose body is being read at once (1000 by default); beyond it requests get 503 at once. */
        public Builder maxUploads(int uploads) {
            if (uploads < 1) {
                throw new IllegalArgumentException("maxUploads must be >= 1, was " + uploads);
            }
            this.maxUploads = uploads;
            return this;
        }

        /**
         * HMAC auth: how far {@code X-Ferry-Timestamp} may be from the server's clock, either way
         * (5 minutes by default); signatures are remembered that long to refuse their replay.
         */
        public Builder signatureWindow(Duration window) {
            if (window == null || window.toSeconds() < 1) {
                throw new IllegalArgumentException("signatureWindow must be >= 1s, was " + window);
            }
            this.signatureWindow = window;
            return this;
        }

        /**
         * HMAC auth: signatures remembered at most (250,000 by default, some 20 MB); when that many
         * were accepted within the window, signed requests get 429 until the oldest expire.
         */
        public Builder maxRememberedSignatures(int signatures) {
            if (signatures < 1) {
                throw new IllegalArgumentException("maxRememberedSignatures must be >= 1, was " + signatures);
            }
            this.maxRememberedSignatures = signatures;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public HttpSource build() {
            if (auth == null) {
                throw new IllegalArgumentException("HTTP source '" + name + "': auth must be set (bearer or HMAC); "
                        + "IngestAuth.none() turns it off explicitly");
            }
            return new HttpSource(this);
        }
    }
}
