package dev.ferry.app;

import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.parking.OnPoison;
import java.util.function.BiPredicate;

/**
 * The configuration's ledger, opened by {@code ferry queues redrive} itself to ask which parked letters' groups are
 * parked now ({@link ParkingDeadLetters#parkedNow}): the letters of groups no longer parked move, the rest stay for a
 * release. Opened only when a source parks groups, and only a shared store (DynamoDB). Where it is not read here — a
 * memory ledger, an MVStore file (the running Ferry's alone), a store that does not answer — every parked letter stays, as before, and the redrive's last line
 * says why and where it can be read (the running Ferry's console).
 */
final class ParkedGroupsHere implements AutoCloseable {

    /** Groups named in a report when it may name more: {@link SqsQueues.RedriveReport#parkedGroups} stops there. */
    private static final int NAMED = 10;

    private final RunContext context;
    private final Object ledger;
    /** Why the ledger was not read here; null when it was, or when no source parks groups. */
    private final String unread;
    private final BiPredicate<String, String> parkedNow;

    private ParkedGroupsHere(FerryConfig config, RunContext context, Object ledger, String unread) {
        this.context = context;
        this.ledger = ledger;
        this.unread = unread;
        this.parkedNow = ParkingDeadLetters.parkedNow(config, ledger); // no ledger: every group said parked
    }

    /** The ledger of {@code config} opened here when one of its sources parks groups; never throws. */
    static ParkedGroupsHere open(FerryConfig config) {
        boolean parks = config.sources().values().stream()
                .anyMatch(s -> s.onPoison() == OnPoison.PARK && s.plan() instanceof SqsSourceConfig);
        if (!parks) {
            return new ParkedGroupsHere(config, null, null, null);
        }
        if ("memory".equals(config.ledger().kind())) {
            // a new, empty memory ledger here would say every group flows: their letters all moved, out of order
            return new ParkedGroupsHere(config, null, null, "ledger: memory lives in the running Ferry's process");
        }
        if (!"dynamodb".equals(config.ledger().kind())) {
            // a review: a file found at the path given (a relative one resolves where the command runs: another
            // pipeline's, a trial's) said every group flows, and parked letters moved out of order; opened for the
            // run, it held the file's lock, and a Ferry started meanwhile could not open its ledger
            return new ParkedGroupsHere(config, null, null, "a ledger file is read by the Ferry that runs on it alone");
        }
        var context = new RunContext(config, false).forExistingOnly();
        try {
            return new ParkedGroupsHere(config, context, config.ledger().plan().open(context), null);
        } catch (RuntimeException e) { // a running Ferry's MVStore file (locked), a store down: read nothing, move none
            context.close();
            return new ParkedGroupsHere(config, null, null, Thrown.message(e));
        }
    }

    /** Of a letter's source queue (null: not said) and group, whether it is parked now; every one, when not read. */
    BiPredicate<String, String> parkedNow() {
        return parkedNow;
    }

    /** What the redrive's last line says of the parked groups' letters it left in {@code from}; empty when none. */
    String said(SqsQueues.RedriveReport report, String from) {
        if (report.parked() == 0) {
            return "";
        }
        var groups = report.parkedGroups();
        return "; " + report.parked() + " dead letter(s) of parked groups stay in " + from
                + (groups.isEmpty() ? "" : " (group(s) " + Printable.of(String.join(", ", groups))
                + (groups.size() >= NAMED ? " and perhaps more: 'ferry groups list' shows them" : "") + ")")
                + "; they go back only through 'ferry groups release'"
                + (unread == null ? "" : "; whether their groups are still parked could not be read here ("
                + Printable.of(unread) + "), so all of them stay: the running Ferry's console redrive (force=true) reads it");
    }

    @Override
    public void close() throws Exception {
        try {
            if (ledger instanceof AutoCloseable c) {
                c.close();
            }
        } finally {
            if (context != null) {
                context.close();
            }
        }
    }
}
