package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParker;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoints of parked groups: {@code GET /groups} lists them (JSON), and
 * {@code POST /groups/release?group=G[&source=S][&skip-head=true&head=KEY]} releases one, with
 * {@code Authorization: Bearer TOKEN} ({@code admin.token}; without one configured, nothing may be
 * changed). What {@code ferry groups} asks a running Ferry, which holds the ledger.
 */
final class AdminGroups implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(AdminGroups.class);

    private final GroupActions actions;
    private final byte[] token;
    private volatile boolean stopping;

    AdminGroups(GroupActions actions, String token) {
        this.actions = actions;
        this.token = AdminAccess.bytes(token);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            try {
                route(exchange);
            } catch (IllegalArgumentException malformed) {
                answer(exchange, 400, Map.of("error", Thrown.message(malformed)));
            } catch (RuntimeException e) { // the ledger's (a plugin's) exception: its text may throw, and the log reads it
                LOG.warn("admin request {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                        Thrown.loggable(e));
                answer(exchange, 500, Map.of("error", Thrown.message(e)));
            }
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        if (path.equals("/groups") && method.equals("GET")) {
            if (AdminAccess.refusesRead(exchange, token)) {
                return;
            }
            int limit = limit(exchange.getRequestURI().getRawQuery());
            // one listing past the default at a time: 100,000 groups are hundreds of megabytes as an answer, and a few
            // asked at once (no token needed on loopback) took the heap that consumers and the ledger need
            boolean large = limit > GroupActions.DEFAULT_LIMIT;
            if (large && !largeListing.tryAcquire()) {
                exchange.getResponseHeaders().set("Retry-After", "5");
                answer(exchange, 429, Map.of("error", "a listing of more than " + GroupActions.DEFAULT_LIMIT
                        + " groups is being answered: ask again when it is done"));
                return;
            }
            try {
                var listing = listing(limit);
                // the body stays the list it always was; how many there are in all goes in a header
                exchange.getResponseHeaders().set("X-Total-Count", Long.toString(listing.total()));
                answer(exchange, 200, listing.groups().stream().map(GroupActions::json).toList());
            } finally {
                if (large) {
                    largeListing.release();
                }
            }
        } else if (path.equals("/groups/release") && method.equals("POST")) {
            release(exchange);
        } else if (path.equals("/groups") || path.equals("/groups/release")) {
            exchange.getResponseHeaders().set("Allow", path.equals("/groups") ? "GET" : "POST");
            answer(exchange, 405, Map.of("error", method + " is not allowed here"));
        } else {
            answer(exchange, 404, Map.of("error", "not found"));
        }
    }

    /** {@code limit=N} of a query (1 to 100,000), else {@link GroupActions#DEFAULT_LIMIT}. */
    static int limit(String rawQuery) {
        String value = AdminEvents.query(rawQuery, Set.of("limit")).get("limit");
        if (value == null) {
            return GroupActions.DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(value);
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("limit must be a number from 1 to " + MAX_LIMIT + ", was '"
                + (value.length() > 40 ? value.substring(0, 40) + "…" : value) + "'");
    }

    static final int MAX_LIMIT = 100_000;

    /** A listing of {@code limit} groups and when it was read (nanoTime). */
    private record Listed(int limit, dev.ferry.domain.parking.ParkedGroupListing listing, long at, long releases) {
    }

    /** How long a listing is answered again unread: the console's own pace. */
    static final long LISTING_FRESH_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
    private volatile Listed lastListed;

    /**
     * The listing, read again when the last of that limit is older than {@link #LISTING_FRESH_NANOS} or a release ran
     * since: each GET read every index item and a thousand groups consistently (DynamoDB), and a scraper or a
     * {@code watch ferry groups list} (no token needed on loopback) took the read units the claims need.
     */
    private dev.ferry.domain.parking.ParkedGroupListing listing(int limit) {
        var last = lastListed;
        long before = actions.releases();
        if (last != null && last.limit() == limit && last.releases() == before
                && System.nanoTime() - last.at() < LISTING_FRESH_NANOS) {
            return last.listing();
        }
        var listing = actions.list(limit);
        // a large one is not kept (hundreds of megabytes held for as long as no one asks again), nor one read while a
        // release began or ended (the group it released shown parked after its 200)
        lastListed = limit <= GroupActions.DEFAULT_LIMIT && actions.releases() == before
                ? new Listed(limit, listing, System.nanoTime(), before) : null;
        return listing;
    }

    /** Held while a listing past {@link GroupActions#DEFAULT_LIMIT} is read and answered. */
    private final java.util.concurrent.Semaphore largeListing = new java.util.concurrent.Semaphore(1);

    /**
     * From the app's close on, releases are refused (one begun now would read on while the ledger and clients close), and
     * those under way end after the batch they recorded ({@link GroupActions#stopping()}): only waited for, one read on
     * past the wait, and the ledger closed under a batch it had sent back — the group let flow ahead of those copies.
     */
    void stopping() {
        synchronized (releasing) {
            stopping = true;
        }
        actions.stopping();
    }

    /** The threads answering a release now. */
    private final java.util.Set<Thread> releasing = new java.util.HashSet<>();

    /**
     * At the app's close, before the ledger and the clients go: waits up to {@code patience} for the
     * releases under way, told by {@link #stopping} to end after their batch in hand; false when one still
     * runs (a batch slower than the patience) — the close then goes on, and such a release loses
     * the record of what it moved (its group stays parked, its count short) or leaves a message both
     * sent back and in the dead-letter queue. Not interrupted: an interrupt lands in whatever call the
     * release is making (a send whose delete then never comes). Call after {@link #stopping}.
     */
    boolean awaitReleases(java.time.Duration patience) throws InterruptedException {
        if (awaitIdle(patience)) {
            return true;
        }
        // said aside, a moment at most: with the log's pipe blocked, the line held the close here for good
        StopSignals.aMoment(() -> LOG.warn("a group release did not end within {} of the close: its group may stay parked "
                + "with its count short, or a message be both sent back and still in the dead-letter queue; look at 'ferry "
                + "groups list'", patience));
        return false;
    }

    private boolean awaitIdle(java.time.Duration patience) throws InterruptedException {
        long end = System.nanoTime() + patience.toNanos();
        synchronized (releasing) {
            while (!releasing.isEmpty()) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(releasing, left);
            }
            return true;
        }
    }

    private void release(HttpExchange exchange) throws IOException {
        // refused before anything else: a peer (a cross-site form) posting without the token threw away every listing
        // kept, each console's next poll a whole ledger read, and held a close's wait while its refusal was written
        if (token == null) {
            answer(exchange, 403, Map.of("error", "nothing may be changed here: set admin.token to allow releases"));
            return;
        }
        if (!AdminAccess.bearer(exchange.getRequestHeaders().getFirst("Authorization"), token)) {
            answer(exchange, 401, Map.of("error", "a release needs Authorization: Bearer <admin.token>"));
            return;
        }
        actions.releaseMoved(); // what the release changes is read again, as it begins and once it ended (here, the console)
        boolean refused;
        synchronized (releasing) {
            refused = stopping;
            if (!refused) {
                releasing.add(Thread.currentThread());
            }
        }
        if (refused) {
            answer(exchange, 503, Map.of("error", "Ferry is closing"));
            return;
        }
        try {
            releaseOne(exchange);
        } finally {
            actions.releaseMoved();
            synchronized (releasing) {
                releasing.remove(Thread.currentThread());
                releasing.notifyAll();
            }
        }
    }

    private void releaseOne(HttpExchange exchange) throws IOException {
        var query = AdminEvents.query(exchange.getRequestURI().getRawQuery(), Set.of("group", "source", "skip-head", "head",
                "give-up-missing"));
        String group = query.get("group");
        if (group == null) { // "" is a group too: a Kafka record's empty key, parked like any other
            answer(exchange, 400, Map.of("error", "which group? ?group=G"));
            return;
        }
        String skip = query.get("skip-head");
        if (skip != null && !skip.equals("true") && !skip.equals("false")) {
            // "yes", "1" or a misspelling was a plain release: the poison head sent back, to fail and park the group again
            answer(exchange, 400, Map.of("error", "skip-head is true or false, was '" + skip + "'"));
            return;
        }
        boolean skipHead = "true".equals(skip);
        String head = query.get("head");
        if (head != null && !skipHead) {
            answer(exchange, 400, Map.of("error", "head names the head skip-head=true drops; without it the head is sent "
                    + "back with the rest"));
            return;
        }
        if (skipHead && (head == null || head.isBlank())) {
            // the head is whatever parked the group when the request runs: name the one you looked at
            answer(exchange, 400, Map.of("error", "skip-head drops the group's head: name the one you mean, &head=KEY "
                    + "(as GET /groups lists it), so that a head parked since is not dropped unseen"));
            return;
        }
        String giveUp = query.get("give-up-missing");
        if (giveUp != null && !giveUp.equals("true") && !giveUp.equals("false")) {
            answer(exchange, 400, Map.of("error", "give-up-missing is true or false, was '" + giveUp + "'"));
            return;
        }
        try {
            String source = actions.sourceFor(query.get("source"), group);
            var released = actions.release(source, group, skipHead, head, "true".equals(giveUp));
            // which pipeline's group moved, and the event a skip gave up: the one action here that throws an event away
            LOG.info("{}{}", GroupActions.text(source, group, released), skipHead && released.skipped() > 0
                    ? "; its head " + Printable.of(head) + " given up (skip-head)" : "");
            var answered = GroupActions.json(released);
            answered.put("source", source);
            answer(exchange, 200, answered);
        } catch (GroupActions.BadSource e) { // a 409 told the CLI "run it again" (exit 1), a script's retry loop spun
            answer(exchange, 400, Map.of("error", Thrown.message(e)));
        } catch (IllegalArgumentException | GroupParker.ReleaseInterrupted e) {
            answer(exchange, 409, Map.of("error", Thrown.message(e))); // Map.of takes no null: a bare exception was a 500
        } catch (FerryException e) { // ended by the close (after its batch) as a new one is refused: Ferry is closing
            answer(exchange, stopping ? 503 : 502, Map.of("error", Thrown.message(e)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer(exchange, 503, Map.of("error", "stopping"));
        }
    }

    private static void answer(HttpExchange exchange, int status, Object body) throws IOException {
        AdminEvents.answer(exchange, status, body);
    }
}
