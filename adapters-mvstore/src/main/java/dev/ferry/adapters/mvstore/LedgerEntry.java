package dev.ferry.adapters.mvstore;

/**
 * A ledger entry as the file keeps it: state, token, and leaseUntil (in progress) or completedAt and
 * expiresAt (completed), in milliseconds; and the key of its place in the expiry index.
 */
record LedgerEntry(String state, long token, long first, long second) {

    static final String IN_PROGRESS = "I";
    static final String COMPLETED = "C";

    static LedgerEntry parse(String value) {
        var p = value.split("\\|");
        return new LedgerEntry(p[0], Long.parseLong(p[1]), Long.parseLong(p[2]), p.length > 3 ? Long.parseLong(p[3]) : 0);
    }

    static String inProgress(long token, long leaseUntil) {
        return IN_PROGRESS + "|" + token + "|" + leaseUntil;
    }

    static String completed(long token, long completedAt, long expiresAt) {
        return COMPLETED + "|" + token + "|" + completedAt + "|" + expiresAt;
    }

    /** {@code <expiresAt, 20 digits>|<key>}: the expiry index keeps keys in the order they expire. */
    static String expiryKey(long expiresAt, String key) {
        return String.format("%020d|%s", expiresAt, key);
    }

    /** The state {@code value} (null: absent) says at {@code now}, as {@code peek} answers it. */
    static java.util.Optional<dev.ferry.domain.idempotency.Claim> asClaim(String key, String value, long now) {
        if (value == null) {
            return java.util.Optional.empty();
        }
        var e = parse(value);
        long until = e.completed() ? e.second() : e.first();
        if (until <= now) {
            return java.util.Optional.empty();
        }
        var at = java.time.Instant.ofEpochMilli(e.first());
        return java.util.Optional.of(e.completed() ? new dev.ferry.domain.idempotency.Claim.Completed(key, at)
                : new dev.ferry.domain.idempotency.Claim.InProgress(key, at));
    }

    boolean completed() {
        return state.equals(COMPLETED);
    }
}
