package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.ferry.adapters.sqs.SqsQueues;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A redrive run from the console: {@code POST /queues/redrive?from=DLQ&to=QUEUE[&max=N][&rate=PER_SECOND]}
 * with the admin token starts one (copy, confirm, delete, as {@code ferry queues redrive} does) on a
 * thread of its own; its progress (moved, left behind, of about how many, rate) is in
 * {@link #status}, which the console shows. One at a time: a second is refused while one runs.
 * {@code force=true} redrives the DLQ of an {@code on-poison: park} source all the same; {@code others=true} alone moves
 * the dead letters of the other queues sharing the DLQ too (force=true moved them, into the parking source's queue).
 */
final class AdminRedrive implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(AdminRedrive.class);

    /** Where a redrive stands. */
    record Status(String from, String to, long total, int moved, int failed, Instant started, Instant finished,
                  String error, int cameBack, String note) {
        Status(String from, String to, long total, int moved, int failed, Instant started, Instant finished,
               String error, int cameBack) {
            this(from, to, total, moved, failed, started, finished, error, cameBack, null);
        }

        boolean running() {
            return finished == null;
        }
    }

    private final SqsQueues queues;
    private final byte[] token;
    private final AtomicReference<Status> status = new AtomicReference<>();
    private volatile boolean stopping;
    private volatile Thread running;

    /** Thrown out of a redrive's progress report to end it between two batches (see {@link #stop}). */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super("stopped: Ferry is closing", null, false, false);
        }
    }

    /** Of a DLQ's URL, the name of the {@code on-poison: park} source whose parked groups it holds; null when none. */
    private final java.util.function.UnaryOperator<String> parkingSource;
    /**
     * Of a dead letter's source queue (null: not said) and group, whether the ledger holds the group parked now: only
     * those letters stay. Every group said parked, a letter whose group was no longer parked was never moved (no release
     * would take it either), and the DLQ's retention deleted it.
     */
    private final java.util.function.BiPredicate<String, String> parkedNow;

    /** One that leaves every parked group's dead letter in place (no ledger to ask). */
    AdminRedrive(SqsQueues queues, String token, java.util.function.UnaryOperator<String> parkingSource) {
        this(queues, token, parkingSource, (queue, group) -> true);
    }

    AdminRedrive(SqsQueues queues, String token, java.util.function.UnaryOperator<String> parkingSource,
                 java.util.function.BiPredicate<String, String> parkedNow) {
        this.queues = queues;
        this.token = AdminAccess.bytes(token);
        this.parkingSource = parkingSource;
        this.parkedNow = parkedNow;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals("/queues/redrive") || !exchange.getRequestMethod().equals("POST")) {
                AdminEvents.answer(exchange, 404, Map.of("error", "not found: POST /queues/redrive?from=DLQ&to=QUEUE"));
                return;
            }
            if (token == null) {
                AdminEvents.answer(exchange, 403, Map.of("error", "nothing may be changed here: set admin.token to allow redrives"));
                return;
            }
            if (!AdminAccess.bearer(exchange.getRequestHeaders().getFirst("Authorization"), token)) {
                AdminEvents.answer(exchange, 401, Map.of("error", "a redrive needs Authorization: Bearer <admin.token>"));
                return;
            }
            Map<String, String> query;
            try {
                query = AdminEvents.query(exchange.getRequestURI().getRawQuery(), Set.of("from", "to", "max", "rate", "force",
                        "others"));
            } catch (IllegalArgumentException e) {
                AdminEvents.answer(exchange, 400, Map.of("error", "a malformed query: " + e.getMessage()));
                return;
            }
            String from = query.get("from");
            String to = query.get("to");
            int max;
            double rate;
            try {
                max = query.containsKey("max") ? Integer.parseInt(query.get("max")) : Integer.MAX_VALUE;
                rate = query.containsKey("rate") ? Double.parseDouble(query.get("rate")) : 0;
            } catch (NumberFormatException e) {
                AdminEvents.answer(exchange, 400, Map.of("error", "max and rate are numbers: " + e.getMessage()));
                return;
            }
            if (from == null || from.isBlank() || to == null || to.isBlank() || max < 1 || !(rate >= 0) || Double.isInfinite(rate)) {
                AdminEvents.answer(exchange, 400, Map.of("error", "give from=DLQ and to=QUEUE (and max >= 1, rate >= 0)"));
                return;
            }
            String fromUrl;
            String toUrl;
            long total;
            try {
                fromUrl = queues.url(from);
                toUrl = queues.url(to);
                if (ParkingDeadLetters.sameQueue(fromUrl, toUrl)) { // by account and name: a URL of another host is the queue too
                    AdminEvents.answer(exchange, 400, Map.of("error", "from and to are the same queue"));
                    return;
                }
                String parking = "true".equals(query.get("force")) ? null : parkingSource.apply(fromUrl);
                if (parking != null) {
                    AdminEvents.answer(exchange, 409, Map.of("error", ParkingDeadLetters.refusal(from, parking)));
                    return;
                }
                total = Math.min(max, queues.approximateMessages(fromUrl));
            } catch (RuntimeException e) {
                AdminEvents.answer(exchange, 400, Map.of("error", Thrown.message(e)));
                return;
            }
            var started = new Status(from, to, total, 0, 0, Instant.now(), null, null, 0);
            boolean closing;
            boolean busy = false;
            synchronized (this) { // with stop(): a redrive started between its check and its join ran on past the close
                closing = stopping;
                if (!closing) {
                    var current = status.get();
                    busy = current != null && current.running() || !status.compareAndSet(current, started);
                    if (!busy) {
                        try {
                            boolean others = "true".equals(query.get("others")); // other queues' letters move too
                            running = Thread.ofVirtual().name("ferry-console-redrive").start(() -> run(started, fromUrl, toUrl, max,
                                    rate, others));
                        } catch (Throwable noThread) { // left "running", every later redrive was refused until a restart
                            status.set(new Status(from, to, total, 0, 0, started.started(), Instant.now(),
                                    "could not start: " + noThread, 0));
                            throw noThread;
                        }
                    }
                }
            }
            if (closing) { // answered outside the lock: a client slow to read would hold the close's stopping() there
                AdminEvents.answer(exchange, 503, Map.of("error", "Ferry is closing"));
            } else if (busy) {
                AdminEvents.answer(exchange, 409, Map.of("error", "a redrive is running: wait for it"));
            } else {
                AdminEvents.answer(exchange, 202, json());
            }
        }
    }

    private void run(Status started, String fromUrl, String toUrl, int max, double rate, boolean otherQueuesToo) {
        try {
            var report = queues.redrive(fromUrl, toUrl, max, rate, new SqsQueues.RedriveProgress() {
                @Override
                public void update(int moved, int failed) {
                    status.set(new Status(started.from(), started.to(), started.total(), moved, failed, started.started(),
                            null, null, 0));
                    if (stopping) {
                        throw new Stopped(); // after a whole batch (copied and deleted), or in a paced wait (none in hand)
                    }
                }

                @Override
                public boolean stopping() {
                    return stopping;
                }
            }, parkedNow, otherQueuesToo);
            // said: every copy back failing again is no "done", nor messages another reader (a release) held out of sight,
            // nor other queues' dead letters left in a DLQ they share (moved, they ran through this queue's routes), nor on
            // a FIFO one the letters behind them in their groups (the problem: the console showed only the letters left)
            String problem = report.problem() == null ? null
                    : report.failed() > 0 ? "send failed: " + report.problem() : report.problem();
            String others = othersLeft(report, started);
            String error = problem == null ? others : others == null ? problem : problem + "; " + others;
            status.set(new Status(started.from(), started.to(), started.total(), report.moved(), report.failed(),
                    started.started(), Instant.now(), error, report.cameBack(),
                    SharedDeadLetterQueue.hidden(report, started.from()))); // a note: shown as failed, it was not
            LOG.info("redrive from {} to {} (console): {} moved, {} left behind, {} copies came back failing again",
                    started.from(), started.to(), report.moved(), report.failed(), report.cameBack());
        } catch (RuntimeException | Error e) {
            var last = status.get();
            status.set(new Status(started.from(), started.to(), started.total(), last.moved(), last.failed(),
                    started.started(), Instant.now(), Thrown.message(e), last.cameBack())); // one that threw here stayed
            // "running", and every later redrive was refused until a restart
            LOG.warn("redrive from {} to {} (console) failed", started.from(), started.to(), Thrown.loggable(e));
        }
    }

    /** What a redrive that left other queues' dead letters in a DLQ they share says of them; null when none. */
    private static String othersLeft(SqsQueues.RedriveReport report, Status started) {
        String said = SharedDeadLetterQueue.othersSaid(report, started.from(), started.to());
        return said.isEmpty() ? null : said.substring(2).replace("with --with-other-queues", "with others=true");
    }

    /**
     * At the app's close, before the SQS client goes: a redrive under way ends after the batch it is
     * moving (copied and deleted, so nothing is left copied but not deleted), waited for up to
     * {@code patience}; none starts after. False when it had not ended by then.
     */
    boolean stop(java.time.Duration patience) throws InterruptedException {
        stopping();
        Thread thread = running;
        if (thread != null && !thread.join(patience)) {
            String from = status.get().from(); // said aside, a moment at most: a blocked log held the close for good
            StopSignals.aMoment(() -> LOG.warn("the console's redrive from {} did not end its batch within {} s (SQS slow "
                    + "to answer): up to ten messages of it may be both copied and still in the dead-letter queue", from,
                    patience.toSeconds()));
            return false;
        }
        return true;
    }

    /** From the app's close on, no redrive starts, and one under way ends after its batch. */
    synchronized void stopping() {
        stopping = true;
    }

    /** The latest redrive, as the console's state carries it; null when none ran. */
    Map<String, Object> json() {
        var s = status.get();
        if (s == null) {
            return null;
        }
        var m = new LinkedHashMap<String, Object>();
        m.put("from", s.from());
        m.put("to", s.to());
        m.put("running", s.running());
        m.put("moved", s.moved());
        m.put("failed", s.failed());
        m.put("total", s.total());
        m.put("came_back", s.cameBack());
        Instant end = s.finished() != null ? s.finished() : Instant.now();
        double seconds = Math.max(0.001, (end.toEpochMilli() - s.started().toEpochMilli()) / 1000.0);
        m.put("per_second", Math.round(s.moved() / seconds * 10) / 10.0);
        m.put("error", s.error());
        m.put("note", s.note());
        return m;
    }
}
