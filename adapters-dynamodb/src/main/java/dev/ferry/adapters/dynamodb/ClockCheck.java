package dev.ferry.adapters.dynamodb;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.http.SdkHttpResponse;

/**
 * This instance's clock against DynamoDB's, read from the {@code Date} header of a claim's answer —
 * at the first claim, then every ten minutes. Claims are timed by each instance's own clock (DynamoDB's
 * conditions take no "now" of their own): an instance whose clock runs ahead finds other instances'
 * claims over before they are, takes them, and an event runs twice. Nothing else tells an operator; a
 * skew of two seconds or more is logged, each check while it lasts, with what it puts at risk.
 *
 * <p>The header has whole seconds, so a skew is known only to within the second and the round trip:
 * DynamoDB's time at the answer lies in [Date, Date + 1 s), taken between {@code sent} and {@code answered}.
 * Only what those bounds prove is reported; within them, the skew is taken as none.
 */
final class ClockCheck {

    private static final System.Logger LOG = System.getLogger(DynamoDbLedger.class.getName());
    static final Duration WARN_AT = Duration.ofSeconds(2);
    private static final long EVERY_NANOS = TimeUnit.MINUTES.toNanos(10);

    private final String table;
    /** When the next check is due (nanoTime); {@link #NOW} before the first. */
    private final java.util.concurrent.atomic.AtomicLong dueNanos = new java.util.concurrent.atomic.AtomicLong(NOW);
    private static final long NOW = Long.MIN_VALUE;
    private volatile Duration skew;

    ClockCheck(String table) {
        this.table = table;
    }

    /**
     * Whether an answer's header should be read now (one volatile read on the hot path); true for one caller
     * of the claims sent at once (a batch's, in parallel), which then must call {@link #answered}.
     */
    boolean due() {
        long due = dueNanos.get();
        long now = System.nanoTime();
        return (due == NOW || now - due >= 0) && dueNanos.compareAndSet(due, now + EVERY_NANOS);
    }

    /** DynamoDB's clock less this instance's at the last check (negative: DynamoDB's behind); null before the first. */
    Duration skew() {
        return skew;
    }

    /** An answer whose request was sent at {@code sentMillis} and answered at {@code answeredMillis}, by the ledger's clock. */
    void answered(long sentMillis, long answeredMillis, SdkHttpResponse http) {
        var date = http == null ? null : http.firstMatchingHeader("Date").orElse(null);
        if (date == null) {
            return; // a proxy that strips it: nothing to compare with
        }
        long server;
        try {
            server = ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        } catch (RuntimeException unreadable) {
            return;
        }
        var measured = Duration.ofMillis(bound(server, sentMillis, answeredMillis));
        skew = measured;
        if (measured.abs().compareTo(WARN_AT) >= 0) {
            LOG.log(System.Logger.Level.WARNING, "this instance''s clock is {0} s {1} DynamoDB''s (table ''{2}''): claims are "
                    + "timed by each instance''s own clock, so an instance whose clock runs ahead of another''s by more than a "
                    + "lease''s margin (lease less extend-every) takes the other''s claims before they end, and their events "
                    + "run twice; keep the clocks synchronized (NTP, chrony, the Amazon Time Sync Service)",
                    String.format(java.util.Locale.ROOT, "%.1f", Math.abs(measured.toMillis()) / 1000.0),
                    measured.isNegative() ? "ahead of" : "behind", table);
        }
    }

    /**
     * The skew the answer proves, in milliseconds: DynamoDB's time was in [server, server + 1000) at a local
     * time in [sent, answered], so its lead is at least {@code server - answered} and less than
     * {@code server + 1000 - sent}; 0 when those bounds take in 0.
     */
    static long bound(long server, long sent, long answered) {
        long least = server - answered;
        long most = server + 1000 - sent;
        return least > 0 ? least : most < 0 ? most : 0;
    }
}
