package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.domain.model.Delivery;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.transport.Acknowledger;
import dev.ferry.domain.transport.Disposition;
import dev.ferry.domain.transport.PollRequest;
import dev.ferry.domain.transport.Settlement;
import dev.ferry.domain.transport.Source;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP ingest endpoint as Ferry's {@link Source} and {@link Acknowledger}: clients POST one
 * event (a JSON object) or a batch (a JSON array of objects); each event becomes a delivery the
 * listener handles like any other, and the request is answered once every one of them is settled.
 *
 * <p>Answers: 200 when every event is done; 422 with the reason when an event is rejected or
 * malformed (dead-lettered); 429 with {@code Retry-After} when an event must be tried again later
 * (throttled downstream, a failure to retry) or when the endpoint is full (back-pressure); 400 for
 * a body that is not an event or an array of events; 401 / 403 for missing or wrong credentials
 * (401 too for a signature out of its time window or used before); 408 for a request not read
 * within {@code readTimeout}; 413 for a body over the limit; 503 with {@code Retry-After} while
 * shutting down or when {@code maxUploads} requests are being read already. A batch reports a
 * status per event ({@code done}, {@code rejected}, {@code retry}) and its HTTP status is the one
 * that asks most of the client: any {@code retry} → 429, else any {@code rejected} → 422, else 200.
 * The client sends again only the events marked {@code retry}; an {@code Idempotency-Key} header
 * (per request, suffixed {@code #index} per event) is passed on as the deduplication id and given
 * back as each result's {@code id}.
 *
 * <p>Runs on the JDK's built-in server (HTTP/1.1, keep-alive), a new thread per request (virtual
 * from JDK 24, see {@code ReadDeadlines}). A request's headers and body must arrive within
 * {@code readTimeout}; at most {@code maxUploads} bodies are read at once; the body is read
 * before a request takes one of the {@code maxConcurrentRequests} processing permits, and at most
 * {@code capacity} events are accepted and not yet settled. Thread-safe.
 */
public final class HttpSource implements Source, Acknowledger {

    private static final Logger LOG = LoggerFactory.getLogger(HttpSource.class);

    private final String name;
    private final String host;
    private final int requestedPort;
    private final String path;
    private final IngestAuth auth;
    private final int maxBodyBytes;
    private final int maxEventsPerRequest;
    private final Duration responseTimeout;
    private final Duration readTimeout;
    private final Duration signatureWindow;
    private final Clock clock;
    private final Semaphore capacity;
    private final Semaphore requests;
    private final int maxUploads;
    private final Semaphore uploads;
    private final SeenSignatures seenSignatures;
    private final LinkedBlockingQueue<Item> ready = new LinkedBlockingQueue<>();
    private final AtomicInteger openRequests = new AtomicInteger();
    private volatile boolean closing;
    private HttpServer server;
    /** Null for plain HTTP. */
    private final javax.net.ssl.SSLContext tls;
    private ReadDeadlines deadlines;

    /** A request refused or answered without being handled: the server closes its connection, unread. */
    private static final class Abandoned extends IOException {
        Abandoned(String message) {
            super(message);
        }
    }

    /** What to send back once a request is done with. */
    private record Answer(int status, Map<String, String> headers, String json) {
    }

    private static final Map<String, String> RETRY_AND_CLOSE = Map.of("Retry-After", "1", "Connection", "close");

    /** One HTTP request waiting for its events to be settled. */
    private static final class Pending {
        final Item[] items;
        final CountDownLatch settled;
        volatile boolean abandoned;

        Pending(int size) {
            this.items = new Item[size];
            this.settled = new CountDownLatch(size);
        }
    }

    /** One event of a request; the receipt of its delivery. */
    private static final class Item {
        final Pending request;
        final int index;
        final Delivery delivery;
        final AtomicBoolean done = new AtomicBoolean();
        volatile Disposition disposition;

        Item(Pending request, int index, Delivery delivery) {
            this.request = request;
            this.index = index;
            this.delivery = delivery;
        }
    }

    private HttpSource(Builder b) {
        this.tls = b.tls;
        this.name = b.name;
        this.host = b.host;
        this.requestedPort = b.port;
        this.path = b.path;
        this.auth = b.auth;
        this.maxBodyBytes = b.maxBodyBytes;
        this.maxEventsPerRequest = b.maxEventsPerRequest;
        this.responseTimeout = b.responseTimeout;
        this.readTimeout = b.readTimeout;
        this.signatureWindow = b.signatureWindow;
        this.clock = b.clock;
        this.capacity = new Semaphore(b.capacity);
        this.requests = new Semaphore(b.maxConcurrentRequests);
        this.maxUploads = b.maxUploads;
        this.uploads = new Semaphore(b.maxUploads);
        this.seenSignatures = new SeenSignatures(b.maxRememberedSignatures);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts listening; the port is known once this returns. */
    public synchronized HttpSource start() {
        if (server != null) {
            return this;
        }
        try {
            if (tls != null) {
                // #16: TLS from a PKCS12 keystore, for an endpoint that listens beyond the host
                var https = com.sun.net.httpserver.HttpsServer.create(new InetSocketAddress(host, requestedPort), 512);
                https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
                server = https;
            } else {
                server = HttpServer.create(new InetSocketAddress(host, requestedPort), 512);
            }
        } catch (IOException e) {
            throw new FerryException("HTTP source '" + name + "' cannot listen on " + host + ":" + requestedPort
                    + ": " + e.getMessage(), e, false);
        }
        deadlines = new ReadDeadlines(name, readTimeout, this::answerLate);
        server.setExecutor(deadlines.executor());
        server.createContext("/", this::exchange);
        server.start();
        LOG.info("HTTP source '{}' listening on {}", name, uri());
        return this;
    }

    public int port() {
        if (server == null) {
            throw new IllegalStateException("HTTP source '" + name + "' is not started");
        }
        return server.getAddress().getPort();
    }

    /** Where clients post events. */
    public URI uri() {
        return URI.create((tls != null ? "https://" : "http://") + host + ":" + port() + path);
    }

    @Override
    public String name() {
        return name;
    }

    /** Requests whose body is being read right now (at most {@code maxUploads}). */
    int uploading() {
        return maxUploads - uploads.availablePermits();
    }

    /** Signatures remembered to refuse their replay. */
    int rememberedSignatures() {
        return seenSignatures.size();
    }

    /** A client waits for the answer: a retry or throttle goes back to it at once (429), never held. */
    @Override
    public java.time.Duration maxHoldInHand() {
        return java.time.Duration.ZERO;
    }

    // ---------------------------------------------------------------- the endpoint

    private void exchange(HttpExchange ex) throws IOException {
        var deadline = deadlines.current();
        openRequests.incrementAndGet();
        try {
            if (!deadline.attach(ex)) {
                late(deadline);
            }
            handle(ex, deadline);
            ex.close();
        } catch (Abandoned e) {
            LOG.debug("HTTP source '{}': {}", name, e.getMessage());
            throw e; // the server closes the connection without reading the rest of the request
        } catch (IOException e) {
            LOG.debug("HTTP source '{}': client went away: {}", name, e.getMessage());
            throw e;
        } catch (UncheckedIOException e) {
            LOG.debug("HTTP source '{}': client went away: {}", name, e.getMessage());
            throw e.getCause();
        } catch (RuntimeException e) {
            LOG.warn("HTTP source '" + name + "': request failed", e);
            try {
                if (deadline.answering()) {
                    respond(ex, 500, Map.of(), error("internal error: " + e.getClass().getSimpleName()));
                }
            } catch (IOException ignored) {
                // the client is gone too
            }
            ex.close();
        } finally {
            openRequests.decrementAndGet();
        }
    }

    private void handle(HttpExchange ex, ReadDeadlines.Deadline deadline) throws IOException {
        if (closing) {
            refuse(ex, deadline, 503, RETRY_AND_CLOSE, "shutting down");
            return;
        }
        if (!ex.getRequestURI().getPath().equals(path)) {
            refuse(ex, deadline, 404, Map.of(), "no such path; events go to " + path);
            return;
        }
        if (!ex.getRequestMethod().equals("POST")) {
            refuse(ex, deadline, 405, Map.of("Allow", "POST"), "method " + ex.getRequestMethod() + " not allowed; POST events");
            return;
        }
        if (auth instanceof IngestAuth.Bearer bearer) {
            String header = ex.getRequestHeaders().getFirst("Authorization");
            if (header == null || !header.startsWith("Bearer ")) {
                refuse(ex, deadline, 401, Map.of("WWW-Authenticate", "Bearer"), "missing bearer token");
                return;
            }
            if (!constantTimeEquals(header.substring(7).strip().getBytes(StandardCharsets.UTF_8),
                    bearer.token().getBytes(StandardCharsets.UTF_8))) {
                refuse(ex, deadline, 403, Map.of(), "wrong bearer token");
                return;
            }
        }
        Signed signed = null;
        if (auth instanceof IngestAuth.HmacSha256 hmac) {
            String refusal = null;
            try {
                signed = signatureHeaders(ex, hmac);
            } catch (IllegalArgumentException e) {
                refusal = e.getMessage();
            }
            if (refusal != null) {
                refuse(ex, deadline, 401, Map.of(), refusal);
                return;
            }
        }
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null && parseLong(length) > maxBodyBytes) {
            // read (and drop) what the client is sending, within the read deadline, so it can read its 413:
            // answering while it still sends makes the server close on unread bytes and the answer is lost
            drain(ex.getRequestBody(), parseLong(length));
            refuse(ex, deadline, 413, Map.of(), "body of " + length
                    + " bytes is over the limit of " + maxBodyBytes);
            return;
        }
        // the body is read before a processing permit is taken, by at most maxUploads at once,
        // each within readTimeout (with the headers): a slow client holds neither permits nor threads
        if (!uploads.tryAcquire()) {
            refuse(ex, deadline, 503, RETRY_AND_CLOSE, "too many requests being received at once (" + maxUploads
                    + "); try again shortly");
            return;
        }
        byte[] body;
        try {
            body = readBounded(ex.getRequestBody(), maxBodyBytes);
        } catch (IOException e) {
            if (deadline.late()) {
                late(deadline);
            }
            throw e;
        } finally {
            uploads.release();
        }
        if (body == null) {
            drain(ex.getRequestBody(), DRAIN_LIMIT);
            refuse(ex, deadline, 413, Map.of(), "body is over the limit of " + maxBodyBytes + " bytes");
            return;
        }
        if (!deadline.done()) {
            late(deadline);
        }
        if (auth instanceof IngestAuth.HmacSha256 hmac && signed != null && !verified(ex, hmac, signed, body)) {
            return;
        }
        var split = JsonItems.split(body, maxEventsPerRequest);
        if (split instanceof JsonItems.Split.Invalid invalid) {
            respond(ex, 400, Map.of(), error(invalid.reason()));
            return;
        }
        if (!requests.tryAcquire()) {
            respond(ex, 429, Map.of("Retry-After", "1"), error("too many requests at once"));
            return;
        }
        Answer answer;
        try {
            answer = handOver(ex, (JsonItems.Split.Items) split);
        } finally {
            requests.release();
        }
        respond(ex, answer.status(), answer.headers(), answer.json());
    }

    /** Answers before the body is read, unless the request is late: then it is answered 408 and closed. */
    private void refuse(HttpExchange ex, ReadDeadlines.Deadline deadline, int status, Map<String, String> headers,
                        String reason) throws IOException {
        if (!deadline.answering()) {
            late(deadline);
        }
        respond(ex, status, headers, error(reason));
    }

    /** The request was not read within readTimeout: its 408 is sent (or given up), its connection to be closed. */
    private void late(ReadDeadlines.Deadline deadline) throws Abandoned {
        deadline.awaitLateAnswer();
        throw new Abandoned("request not read within " + readTimeout.toMillis() + " ms: answered 408, connection closed");
    }

    /** The 408 of a request whose headers and body did not arrive within readTimeout; the connection is closed after it. */
    private void answerLate(HttpExchange ex) throws IOException {
        byte[] bytes = error("request not received within " + readTimeout.toMillis() + " ms; closing the connection")
                .getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.getResponseHeaders().set("Connection", "close");
        ex.sendResponseHeaders(408, bytes.length);
        var out = ex.getResponseBody();
        out.write(bytes);
        out.flush(); // not closed: closing would wait for the rest of the body
    }

    /** The signature headers of a request that passed the first checks (format, time window). */
    private record Signed(String timestamp, long seconds, byte[] mac) {
    }

    private static final Pattern UNIX_SECONDS = Pattern.compile("[0-9]{1,12}");

    /** The signature and timestamp headers, checked before the body is read; refusals as IllegalArgumentException. */
    private Signed signatureHeaders(HttpExchange ex, IngestAuth.HmacSha256 hmac) {
        String signature = ex.getRequestHeaders().getFirst(hmac.header());
        String timestamp = ex.getRequestHeaders().getFirst(IngestAuth.HmacSha256.TIMESTAMP_HEADER);
        if (signature == null || !signature.startsWith("sha256=")) {
            throw new IllegalArgumentException("missing " + hmac.header() + ": sha256=<hex HMAC-SHA256 of the "
                    + IngestAuth.HmacSha256.TIMESTAMP_HEADER + ", method, path, Idempotency-Key and X-Ferry-Group, "
                    + "each followed by a newline, then the body>");
        }
        byte[] mac;
        try {
            mac = HexFormat.of().parseHex(signature.substring(7).strip());
        } catch (IllegalArgumentException e) {
            mac = new byte[0];
        }
        if (mac.length != 32) {
            throw new IllegalArgumentException(hmac.header() + " must be sha256= and 64 hex digits");
        }
        if (timestamp == null || !UNIX_SECONDS.matcher(timestamp).matches()) {
            throw new IllegalArgumentException("missing " + IngestAuth.HmacSha256.TIMESTAMP_HEADER
                    + ": <unix seconds>, the time the request was signed (it is part of the signature)");
        }
        long seconds = Long.parseLong(timestamp);
        long skew = Math.abs(clock.instant().getEpochSecond() - seconds);
        if (skew > signatureWindow.toSeconds()) {
            throw new IllegalArgumentException(IngestAuth.HmacSha256.TIMESTAMP_HEADER + " " + timestamp + " is " + skew
                    + " s away from the server's clock; signatures are accepted within " + signatureWindow.toSeconds()
                    + " s of it: sign each request when sending it");
        }
        return new Signed(timestamp, seconds, mac);
    }

    /** Checks the signature over the whole request, and that it is not a replay; answers if not. */
    private boolean verified(HttpExchange ex, IngestAuth.HmacSha256 hmac, Signed signed, byte[] body) throws IOException {
        byte[] expected = hmac.mac(signed.timestamp(), ex.getRequestMethod(), path,
                ex.getRequestHeaders().getFirst("Idempotency-Key"), ex.getRequestHeaders().getFirst("X-Ferry-Group"), body);
        if (!MessageDigest.isEqual(signed.mac(), expected)) {
            respond(ex, 403, Map.of(), error("signature does not match the request (" + IngestAuth.HmacSha256.TIMESTAMP_HEADER
                    + ", method, path, Idempotency-Key, X-Ferry-Group and body)"));
            return false;
        }
        long forgetAfter = signed.seconds() + signatureWindow.toSeconds() + 1;
        switch (seenSignatures.remember(expected, forgetAfter, clock.instant().getEpochSecond())) {
            case REPLAYED -> {
                respond(ex, 401, Map.of(), error("replayed: this signature was accepted before; sign each request, "
                        + "and each attempt of it, anew with a fresh " + IngestAuth.HmacSha256.TIMESTAMP_HEADER));
                return false;
            }
            case FULL -> {
                respond(ex, 429, Map.of("Retry-After", "1"), error("too many signed requests within the signature window "
                        + "to remember; try again shortly"));
                return false;
            }
            case FIRST -> {
                return true;
            }
        }
        return true;
    }

    private Answer handOver(HttpExchange ex, JsonItems.Split.Items split) {
        int n = split.items().size();
        if (!capacity.tryAcquire(n)) {
            return new Answer(429, Map.of("Retry-After", "1"), error("back-pressure: " + n
                    + " event(s) do not fit; try again shortly"));
        }
        var request = new Pending(n);
        String requestId = UUID.randomUUID().toString();
        String idempotencyKey = ex.getRequestHeaders().getFirst("Idempotency-Key");
        String group = ex.getRequestHeaders().getFirst("X-Ferry-Group");
        var now = clock.instant();
        for (int i = 0; i < n; i++) {
            var attributes = new HashMap<String, String>(8);
            attributes.put("http.remoteAddress", ex.getRemoteAddress().getAddress().getHostAddress());
            attributes.put("http.path", path);
            for (String trace : new String[] {"traceparent", "tracestate"}) {
                String value = ex.getRequestHeaders().getFirst(trace);
                if (value != null && value.length() <= 512) {
                    attributes.put(trace, value);
                }
            }
            String dedup = idempotencyKey == null ? null : split.batch() ? idempotencyKey + "#" + i : idempotencyKey;
            if (dedup != null) {
                attributes.put("Idempotency-Key", dedup);
            }
            // the receipt (the item itself) is attached when the delivery is polled, see delivered()
            var delivery = new Delivery(requestId + "#" + i, split.items().get(i), attributes, 1, now, group, dedup, name, null);
            request.items[i] = new Item(request, i, delivery);
        }
        enqueue(request);
        boolean all;
        try {
            all = request.settled.await(responseTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            all = false;
        }
        if (!all) {
            request.abandoned = true;
        }
        return answer(request, split.batch());
    }

    private void enqueue(Pending request) {
        for (var item : request.items) {
            ready.add(item);
        }
    }

    /**
     * The answer: per event its index, the client's own id for it ({@code id}: its Idempotency-Key,
     * {@code key#index} in a batch; absent without the header) and its status.
     */
    private Answer answer(Pending request, boolean batch) {
        var json = new StringBuilder(64 + 64 * request.items.length).append("{\"results\":[");
        boolean anyRetry = false;
        boolean anyRejected = false;
        boolean anyRedeliver = false;
        long retryAfter = 0;
        for (var item : request.items) {
            if (item.index > 0) {
                json.append(',');
            }
            json.append("{\"index\":").append(item.index);
            if (item.delivery.deduplicationId() != null) {
                json.append(",\"id\":").append(quote(item.delivery.deduplicationId()));
            }
            json.append(",\"status\":");
            var d = item.disposition;
            switch (d) {
                case null -> {
                    anyRetry = true;
                    retryAfter = Math.max(retryAfter, 1);
                    json.append("\"retry\",\"reason\":\"not settled within ").append(responseTimeout.toSeconds())
                            .append(" s; it may still be handled\"");
                }
                case Disposition.Ack a -> json.append("\"done\"");
                case Disposition.DeadLetter dl -> {
                    anyRejected = true;
                    json.append("\"rejected\",\"reason\":").append(quote(dl.reason()));
                }
                case Disposition.Redeliver r -> {
                    anyRetry = true;
                    anyRedeliver = true;
                    long seconds = Math.max(1, r.delay().toSeconds() + (r.delay().getNano() > 0 ? 1 : 0));
                    retryAfter = Math.max(retryAfter, seconds);
                    json.append("\"retry\",\"retryAfterSeconds\":").append(seconds);
                }
                case Disposition.Release r -> {
                    anyRetry = true;
                    retryAfter = Math.max(retryAfter, 1);
                    json.append("\"retry\",\"retryAfterSeconds\":1");
                }
            }
            json.append('}');
        }
        json.append("]}");
        int status;
        if (anyRetry) {
            status = anyRedeliver || !closing ? 429 : 503;
        } else {
            status = anyRejected ? 422 : 200;
        }
        if (!batch && status != 200) {
            LOG.debug("HTTP source '{}': answered {}", name, status);
        }
        return new Answer(status, anyRetry ? Map.of("Retry-After", Long.toString(retryAfter)) : Map.of(), json.toString());
    }

    /** The most of a refused body read and dropped so its client hears the answer; beyond it the connection closes. */
    private static final long DRAIN_LIMIT = 64L << 20;

    /** Reads and drops up to {@code bytes} (at most {@link #DRAIN_LIMIT}) of a refused body. */
    private static void drain(java.io.InputStream in, long bytes) throws IOException {
        long left = Math.min(bytes, DRAIN_LIMIT);
        byte[] buffer = new byte[16 * 1024];
        int n;
        while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
            left -= n;
        }
    }

    private static void respond(HttpExchange ex, int status, Map<String, String> headers, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(status, bytes.length);
        try (var out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String error(String reason) {
        return "{\"error\":" + quote(reason) + "}";
    }

    static String quote(String s) {
        var sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    private static byte[] readBounded(InputStream in, int max) throws IOException {
        byte[] bytes = in.readNBytes(max + 1);
        return bytes.length > max ? null : bytes;
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static boolean constantTimeEquals(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    // ---------------------------------------------------------------- the ports

    @Override
    public List<Delivery> poll(PollRequest request) {
        var out = new ArrayList<Delivery>(Math.min(request.maxMessages(), 64));
        try {
            var first = ready.poll(request.maxWait().toNanos(), TimeUnit.NANOSECONDS);
            while (first != null && out.size() < request.maxMessages()) {
                if (first.request.abandoned) {
                    discard(first);
                } else {
                    out.add(delivered(first));
                }
                first = out.size() < request.maxMessages() ? ready.poll() : null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    private Delivery delivered(Item item) {
        var d = item.delivery;
        return new Delivery(d.id(), d.body(), d.attributes(), 1, d.sentAt(), d.groupKey(), d.deduplicationId(), name, item);
    }

    private void discard(Item item) {
        if (item.done.compareAndSet(false, true)) {
            capacity.release();
        }
    }

    @Override
    public List<Settlement.Failure> settle(List<Settlement> settlements) {
        List<Settlement.Failure> failures = List.of();
        for (var s : settlements) {
            if (s.delivery().receipt() instanceof Item item && item.done.compareAndSet(false, true)) {
                item.disposition = s.disposition();
                capacity.release();
                item.request.settled.countDown();
            } else {
                if (failures.isEmpty()) {
                    failures = new ArrayList<>();
                }
                failures.add(new Settlement.Failure(s, s.delivery().receipt() instanceof Item
                        ? "already settled or its request gave up" : "not received by HTTP source '" + name + "'", false));
            }
        }
        return failures;
    }

    /** Nothing to extend: the client waits on the open request; settled ones are reported. */
    @Override
    public List<Delivery> extendLeases(List<Delivery> deliveries, Duration lease) {
        return deliveries.stream().filter(d -> !(d.receipt() instanceof Item item) || item.done.get()).toList();
    }

    /** Answers 503 to new requests, releases events nobody polled, waits briefly for open requests, stops. */
    @Override
    public void close() {
        closing = true;
        Item item;
        while ((item = ready.poll()) != null) {
            if (item.done.compareAndSet(false, true)) {
                item.disposition = Disposition.RELEASE;
                capacity.release();
                item.request.settled.countDown();
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (openRequests.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        synchronized (this) {
            if (server != null) {
                server.stop(0);
                deadlines.close();
            }
        }
    }

    /** Builds an {@link HttpSource}; authentication must be chosen, even if it is {@link IngestAuth#none()}. */
    public static final class Builder {
        private String name = "http-ingest";
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
            try (var in = java.nio.file.Files.newInputStream(pkcs12)) {
                var store = java.security.KeyStore.getInstance("PKCS12");
                store.load(in, password);
                boolean hasKey = false;
                for (var aliases = store.aliases(); aliases.hasMoreElements(); ) {
                    hasKey |= store.isKeyEntry(aliases.nextElement());
                }
                if (!hasKey) {
                    throw new IllegalArgumentException("keystore " + pkcs12 + " holds no private key");
                }
                var keys = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
                keys.init(store, password);
                var context = javax.net.ssl.SSLContext.getInstance("TLS");
                context.init(keys.getKeyManagers(), null, null);
                this.tls = context;
                return this;
            } catch (IOException | java.security.GeneralSecurityException e) {
                throw new IllegalArgumentException("cannot read the PKCS12 keystore " + pkcs12 + ": " + e.getMessage(), e);
            }
        }

        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
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
