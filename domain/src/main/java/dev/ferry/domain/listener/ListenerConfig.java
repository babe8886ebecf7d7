package dev.ferry.domain.listener;

import dev.ferry.domain.retry.DeadLetterPolicy;
import dev.ferry.domain.retry.RetryPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link Listener} polls, leases, retries and stops. Build with {@link #builder()};
 * every value is checked, and errors name the field and the value.
 *
 * @param pollers            threads polling the source at once
 * @param batchSize          messages asked for per poll (SQS allows 1..10)
 * @param pollWait           long-poll wait per poll (SQS: 0..20 s)
 * @param lease              visibility timeout asked for each received message
 * @param extendAt           part of the lease after which a message still in hand gets its lease extended
 *                           (0.5 = halfway); must leave room for the extension call
 * @param maxInFlight        messages received and not yet settled; polling stops when reached (builder
 *                           default: {@link #defaultMaxInFlight}). With {@code skipDelete}, a delivery its
 *                           handler keeps leaves the window when handed over: what the handler keeps is
 *                           its own to bound
 * @param concurrency        handler threads: groups handled at once
 * @param retry              real failures allowed per message and the backoff between them
 * @param deadLetter         receives (minus known throttled ones) after which a message is dead-lettered
 * @param completedTtl       how long the ledger remembers a completed event
 * @param throttlePause      first pause of polling after a Throttled outcome; doubles while throttling goes on. Also
 *                           the least a throttled message waits when under 100 ms — never under 10 ms
 * @param maxThrottlePause   the longest polling pause under throttling
 * @param idleTimeout        stop after this long without a message and with nothing in hand; {@link Duration#ZERO} =
 *                           never
 * @param shutdownDeadline   how long shutdown lets running handlers finish before releasing their messages
 * @param skipDelete         on Done, do not ack: the handler settles the message itself later
 *                           through {@link Listener#settle}
 * @param extendLeases       extend leases of messages still in hand (on by default); off, a message
 *                           whose handler outlasts the lease is handed out again, and the ledger's
 *                           fencing is what stops the first handler's completion from counting
 * @param holdLimit          the longest wait a delivery waits out in hand (lease extended, its group
 *                           behind it, no receive spent): a retry's backoff, a throttle's Retry-After, a
 *                           failing ledger. A longer wait puts it back on the transport. {@link Duration#ZERO}
 *                           puts every wait back on the transport (an HTTP ingest answers 429 at once).
 *                           With {@code extendLeases} off, at most half the lease on a transport that hands
 *                           a message out again when its lease ends (its copy would come back first)
 * @param handlerTimeout     how long one handler call may run before its thread is interrupted (the call
 *                           then counts as a failed attempt, and its stack is logged); one that has not
 *                           returned a while after that is reported by {@link Listener#wedges()}.
 *                           {@link Duration#ZERO} (the default) = no limit: a handler may run for hours,
 *                           its lease extended
 */
public record ListenerConfig(
        int pollers,
        int batchSize,
        Duration pollWait,
        Duration lease,
        double extendAt,
        int maxInFlight,
        int concurrency,
        RetryPolicy retry,
        DeadLetterPolicy deadLetter,
        Duration completedTtl,
        Duration throttlePause,
        Duration maxThrottlePause,
        Duration idleTimeout,
        Duration shutdownDeadline,
        boolean skipDelete,
        boolean extendLeases,
        Duration holdLimit,
        Duration handlerTimeout) {

    /** The settings of earlier versions; {@code handlerTimeout} is none. */
    public ListenerConfig(int pollers, int batchSize, Duration pollWait, Duration lease, double extendAt,
                          int maxInFlight, int concurrency, RetryPolicy retry, DeadLetterPolicy deadLetter,
                          Duration completedTtl, Duration throttlePause, Duration maxThrottlePause,
                          Duration idleTimeout, Duration shutdownDeadline, boolean skipDelete, boolean extendLeases,
                          Duration holdLimit) {
        this(pollers, batchSize, pollWait, lease, extendAt, maxInFlight, concurrency, retry, deadLetter, completedTtl,
                throttlePause, maxThrottlePause, idleTimeout, shutdownDeadline, skipDelete, extendLeases, holdLimit,
                Duration.ZERO);
    }

    /** The settings of earlier versions; {@code holdLimit} gets its default, {@code handlerTimeout} is none. */
    public ListenerConfig(int pollers, int batchSize, Duration pollWait, Duration lease, double extendAt,
                          int maxInFlight, int concurrency, RetryPolicy retry, DeadLetterPolicy deadLetter,
                          Duration completedTtl, Duration throttlePause, Duration maxThrottlePause,
                          Duration idleTimeout, Duration shutdownDeadline, boolean skipDelete, boolean extendLeases) {
        this(pollers, batchSize, pollWait, lease, extendAt, maxInFlight, concurrency, retry, deadLetter, completedTtl,
                throttlePause, maxThrottlePause, idleTimeout, shutdownDeadline, skipDelete, extendLeases,
                Builder.DEFAULT_HOLD_LIMIT, Duration.ZERO);
    }

    public ListenerConfig {
        atLeast("pollers", pollers, 1);
        atLeast("batchSize", batchSize, 1);
        atLeast("maxInFlight", maxInFlight, 1);
        atLeast("concurrency", concurrency, 1);
        notNegative("pollWait", pollWait);
        positive("lease", lease);
        if (lease.compareTo(SHORTEST_LEASE) < 0) { // accepted, every message was dropped as stale on arrival, for ever
            throw new IllegalArgumentException("lease must be at least " + SHORTEST_LEASE.toMillis() + " ms: a shorter one "
                    + "runs out before it can be extended, and every message would be dropped unhandled; was " + lease);
        }
        atMostACentury("lease", lease); // leases are added to instants and counted in nanoseconds throughout
        atMostACentury("pollWait", pollWait); // the sources count it in nanoseconds
        positive("completedTtl", completedTtl);
        notNegative("throttlePause", throttlePause);
        notNegative("maxThrottlePause", maxThrottlePause);
        notNegative("idleTimeout", idleTimeout);
        notNegative("shutdownDeadline", shutdownDeadline);
        notNegative("holdLimit", holdLimit);
        notNegative("handlerTimeout", handlerTimeout);
        atMostACentury("handlerTimeout", handlerTimeout); // counted in nanoseconds
        Objects.requireNonNull(retry, "retry");
        Objects.requireNonNull(deadLetter, "deadLetter");
        if (!(extendAt > 0.0 && extendAt < 1.0)) {
            throw new IllegalArgumentException("extendAt must be between 0 and 1 (a part of the lease), was " + extendAt);
        }
        if (maxThrottlePause.compareTo(throttlePause) < 0) {
            throw new IllegalArgumentException("maxThrottlePause (" + maxThrottlePause
                    + ") must be >= throttlePause (" + throttlePause + ")");
        }
        if (batchSize > maxInFlight) {
            throw new IllegalArgumentException("batchSize (" + batchSize + ") must be <= maxInFlight (" + maxInFlight + ")");
        }
    }

    private static void atMostACentury(String name, Duration d) {
        if (d.compareTo(LONGEST_LEASE) > 0) {
            throw new IllegalArgumentException(name + " must be at most " + LONGEST_LEASE.toDays() + " days, was " + d);
        }
    }

    /** The longest lease taken: about a century (no transport leases for longer; SQS's longest is 12 hours). */
    static final Duration LONGEST_LEASE = Duration.ofDays(36_500);
    /** The shortest lease the lease keeper can extend in time. */
    static final Duration SHORTEST_LEASE = Duration.ofMillis(100);

    public static Builder builder() {
        return new Builder();
    }

    public static ListenerConfig defaults() {
        return builder().build();
    }

    /**
     * A builder holding these settings. A {@code maxInFlight} equal to {@link #defaultMaxInFlight} of the others is
     * taken for unset (a record keeps no mark of it), so it follows the concurrency, pollers or batch size set next.
     */
    public Builder toBuilder() {
        var b = new Builder();
        b.pollers = pollers;
        b.batchSize = batchSize;
        b.pollWait = pollWait;
        b.lease = lease;
        b.extendAt = extendAt;
        // kept, defaults().toBuilder().concurrency(200) left 100 of 200 handler threads busy, and a batch of 200 was
        // refused against a window never set
        b.maxInFlight = maxInFlight == defaultMaxInFlight(concurrency, pollers, batchSize) ? null : maxInFlight;
        b.concurrency = concurrency;
        b.retry = retry;
        b.deadLetter = deadLetter;
        b.completedTtl = completedTtl;
        b.throttlePause = throttlePause;
        b.maxThrottlePause = maxThrottlePause;
        b.idleTimeout = idleTimeout;
        b.shutdownDeadline = shutdownDeadline;
        b.extendLeases = extendLeases;
        b.skipDelete = skipDelete;
        b.holdLimit = holdLimit;
        b.handlerTimeout = handlerTimeout;
        return b;
    }

    /** When a message received at lease start should get its lease extended. */
    Duration extendAfter() {
        return Duration.ofNanos((long) (lease.toNanos() * extendAt));
    }

    private static void atLeast(String field, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(field + " must be >= " + min + ", was " + value);
        }
    }

    private static void notNegative(String field, Duration value) {
        Objects.requireNonNull(value, field);
        if (value.isNegative()) {
            throw new IllegalArgumentException(field + " must be >= 0, was " + value);
        }
    }

    private static void positive(String field, Duration value) {
        Objects.requireNonNull(value, field);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(field + " must be > 0, was " + value);
        }
    }

    /**
     * Messages in hand when {@code maxInFlight} is not set: enough to keep every handler thread busy
     * while each poller has two batches on the way, at least 100. A smaller window than that leaves
     * handlers idle whenever the sink is slower than the poll (measured: benchmarks/README.md).
     */
    public static int defaultMaxInFlight(int concurrency, int pollers, int batchSize) {
        long wanted = (long) concurrency + 2L * pollers * batchSize;
        return (int) Math.max(100, Math.min(Integer.MAX_VALUE, wanted));
    }

    /** Defaults follow SQS and the reference jobs: 20 s long polls, batches of 10, 30 s visibility. */
    public static final class Builder {
        /** Five minutes: a 429's default Retry-After and the default backoff's longest step are waited out in hand. */
        static final Duration DEFAULT_HOLD_LIMIT = Duration.ofMinutes(5);
        private int pollers = 1;
        private int batchSize = 10;
        private Duration pollWait = Duration.ofSeconds(20);
        private Duration lease = Duration.ofSeconds(30);
        private double extendAt = 0.5;
        /** Not set: {@link #defaultMaxInFlight} of the other settings. */
        private Integer maxInFlight;
        private int concurrency = 16;
        private RetryPolicy retry = RetryPolicy.defaults();
        private DeadLetterPolicy deadLetter = DeadLetterPolicy.defaults();
        private Duration completedTtl = Duration.ofHours(24);
        private Duration throttlePause = Duration.ofSeconds(1);
        private Duration maxThrottlePause = Duration.ofSeconds(30);
        private Duration idleTimeout = Duration.ZERO;
        private Duration shutdownDeadline = Duration.ofSeconds(30);
        private boolean skipDelete;
        private boolean extendLeases = true;
        private Duration holdLimit = DEFAULT_HOLD_LIMIT;
        private Duration handlerTimeout = Duration.ZERO;

        private Builder() {
        }

        public Builder pollers(int pollers) { this.pollers = pollers; return this; }
        public Builder batchSize(int batchSize) { this.batchSize = batchSize; return this; }
        public Builder pollWait(Duration pollWait) { this.pollWait = pollWait; return this; }
        public Builder lease(Duration lease) { this.lease = lease; return this; }
        public Builder extendAt(double extendAt) { this.extendAt = extendAt; return this; }
        public Builder maxInFlight(int maxInFlight) { this.maxInFlight = maxInFlight; return this; }
        public Builder concurrency(int concurrency) { this.concurrency = concurrency; return this; }
        public Builder retry(RetryPolicy retry) { this.retry = retry; return this; }
        public Builder deadLetter(DeadLetterPolicy deadLetter) { this.deadLetter = deadLetter; return this; }
        public Builder completedTtl(Duration completedTtl) { this.completedTtl = completedTtl; return this; }
        public Builder throttlePause(Duration throttlePause) { this.throttlePause = throttlePause; return this; }
        public Builder maxThrottlePause(Duration maxThrottlePause) { this.maxThrottlePause = maxThrottlePause; return this; }
        public Builder idleTimeout(Duration idleTimeout) { this.idleTimeout = idleTimeout; return this; }
        public Builder shutdownDeadline(Duration shutdownDeadline) { this.shutdownDeadline = shutdownDeadline; return this; }
        public Builder skipDelete(boolean skipDelete) { this.skipDelete = skipDelete; return this; }
        public Builder extendLeases(boolean extendLeases) { this.extendLeases = extendLeases; return this; }
        public Builder holdLimit(Duration holdLimit) { this.holdLimit = holdLimit; return this; }
        /** {@link ListenerConfig#handlerTimeout()}; zero (the default) = none. */
        public Builder handlerTimeout(Duration handlerTimeout) { this.handlerTimeout = handlerTimeout; return this; }

        public ListenerConfig build() {
            int inFlight = maxInFlight != null ? maxInFlight : defaultMaxInFlight(concurrency, pollers, batchSize);
            return new ListenerConfig(pollers, batchSize, pollWait, lease, extendAt, inFlight, concurrency, retry,
                    deadLetter, completedTtl, throttlePause, maxThrottlePause, idleTimeout, shutdownDeadline, skipDelete,
                    extendLeases, holdLimit, handlerTimeout);
        }
    }
}
