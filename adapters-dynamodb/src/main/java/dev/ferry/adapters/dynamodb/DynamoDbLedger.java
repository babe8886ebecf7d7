package dev.ferry.adapters.dynamodb;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.EventJournal;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.model.Durations;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.parking.ParkedGroup;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;

/**
 * An {@link IdempotencyLedger} many instances share in one DynamoDB table: one item per key, each change conditional.
 *
 * <ul>
 *   <li>claim: {@code UpdateItem} that sets the key in progress with its lease and adds 1 to its fencing token, on
 *       condition the key is absent, its lease ran out, it was released, or its completion expired; the new token comes
 *       back with the answer. A refused claim returns the current item, telling in progress (until when) from
 *       completed, and another's claim from its own write whose answer was lost ({@link RefusedClaim}).</li>
 *   <li>complete / release / extend: conditional on the caller's token (and, for extend, a lease still running), so a
 *       worker whose lease expired and whose key was claimed again can neither complete it nor overwrite the new
 *       holder's state.</li>
 *   <li>release does not delete the item: it marks it RELEASED and keeps its token, so the next claim's {@code ADD}
 *       gives a larger one. Tokens never go backwards for a key while its item exists; a new item's first token is the
 *       clock's microseconds (not 1), so one made after TTL deleted a completed item starts above every token the old
 *       one gave out, and a zombie still holding one cannot complete or release the next holder's claim (#16).</li>
 *   <li>a TTL attribute (epoch seconds) on every item for DynamoDB's own expiry: a completion's TTL, or a day past a
 *       claim's lease or a release so abandoned and released claims go too. Expired items DynamoDB has not deleted yet
 *       are treated as absent.</li>
 * </ul>
 *
 * <p>Round trips: one per claim and one per completion. DynamoDB has no conditional batch write (BatchWriteItem takes
 * no conditions; a transaction fails whole when one key is a duplicate), so {@link #claimAll} sends a batch's claims
 * concurrently: one round trip of latency, one request per key. Time comes from the injected clock, not from DynamoDB.
 * Thread-safe. Parked groups ({@link GroupParking}) and the event journal ({@link EventJournal}) live in the same
 * table: see {@link DynamoDbParkedGroups} and {@link DynamoDbJournal}.
 */
public final class DynamoDbLedger implements IdempotencyLedger, GroupParking, EventJournal, AutoCloseable {

    static final String IN_PROGRESS = "IN_PROGRESS";
    static final String COMPLETED = "COMPLETED";
    static final String RELEASED = "RELEASED";
    private static final Duration ABANDONED_CLAIM_TTL = Duration.ofDays(1);

    private final DynamoDbClient client;
    private final String table;
    private final Names n;
    private final Clock clock;
    private final ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor();
    private final DynamoDbParkedGroups parkedGroups;
    private final DynamoDbJournal journal;
    private final DynamoDbLayout layout;
    private final ClockCheck clockCheck;
    private final CallBounds bounds;

    /** Table and attribute names; all configurable. */
    public record Names(String key, String state, String token, String leaseUntil, String completedAt, String ttl) {
        public Names {
            for (var name : List.of(key, state, token, leaseUntil, completedAt, ttl)) {
                if (name == null || name.isBlank()) {
                    throw new IllegalArgumentException("DynamoDB attribute names must not be blank");
                }
            }
            if (List.of(key, state, token, leaseUntil, completedAt, ttl).contains(RefusedClaim.NONCE)) {
                throw new IllegalArgumentException("'" + RefusedClaim.NONCE + "' is the ledger's own attribute");
            }
        }

        public static Names defaults() {
            return new Names("pk", "state", "token", "leaseUntil", "completedAt", "expiresAt");
        }
    }

    private DynamoDbLedger(DynamoDbClient client, String table, Names names, Clock clock, int indexShards) {
        this.client = Objects.requireNonNull(client, "client");
        this.bounds = CallBounds.of(client); // an embedder's client without its own: bounded per call
        this.table = Objects.requireNonNull(table, "table");
        this.n = Objects.requireNonNull(names, "names");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.parkedGroups = new DynamoDbParkedGroups(client, table, names.key(), indexShards, bounds);
        this.journal = new DynamoDbJournal(client, table, names.key(), names.ttl(), bounds);
        this.layout = new DynamoDbLayout(client, table, names.key(), this::failure, bounds);
        this.clockCheck = new ClockCheck(table);
    }

    public static DynamoDbLedger of(DynamoDbClient client, String table) {
        return new DynamoDbLedger(client, table, Names.defaults(), Clock.systemUTC(), DynamoDbParkedGroups.SHARDS);
    }

    public static DynamoDbLedger of(DynamoDbClient client, String table, Names names, Clock clock) {
        return new DynamoDbLedger(client, table, names, clock, DynamoDbParkedGroups.SHARDS);
    }

    /** A test's: the parked groups' index in {@code shards} items, to fill one. */
    static DynamoDbLedger withIndexShards(DynamoDbClient client, String table, int shards) {
        return new DynamoDbLedger(client, table, Names.defaults(), Clock.systemUTC(), shards);
    }

    /** Groups parked since this ledger was made that the index had no room for (listed nowhere, in force all the same). */
    long unlistedParkedGroups() {
        return parkedGroups.unlisted();
    }

    /** A table the run's start could not make: made by the first claim or read that finds DynamoDB answering. */
    void oweTable(Runnable make) { layout.owe(make); }

    /**
     * How far DynamoDB's clock was ahead of this instance's (negative: behind) at the last check (the first claim, then
     * every ten minutes), to a second and the round trip; zero when that is all that can be said; null before the first.
     * Two seconds or more is logged: claims are timed by each instance's own clock.
     */
    public Duration clockSkew() {
        return clockCheck.skew();
    }

    /**
     * Creates the table (on-demand billing, the key as its partition key) and turns on TTL on the expiry attribute;
     * one that exists keeps its settings, but gets TTL on that attribute when it has none. Throws a {@link
     * FerryException} when the table cannot be made, is keyed otherwise, or is seen without TTL on that attribute
     * afterwards (on another, or off and not turned on); only warns when it could be neither asked about nor turned on.
     */
    public static void createTable(DynamoDbClient client, String table, Names names) {
        LedgerTables.createWithTtl(client, table, names);
    }

    private Map<String, AttributeValue> key(String key) {
        return Map.of(n.key(), s(ItemKeys.storable(key)));
    }

    private static AttributeValue s(String value) { return AttributeValue.fromS(value); }

    private static AttributeValue num(long value) { return AttributeValue.fromN(Long.toString(value)); }

    private static Map<String, String> names(Names n) {
        return Map.of("#k", n.key(), "#state", n.state(), "#token", n.token(), "#lease", n.leaseUntil(),
                "#done", n.completedAt(), "#ttl", n.ttl(), "#nonce", RefusedClaim.NONCE);
    }

    @Override
    public Claim claim(String key, Duration lease) {
        Objects.requireNonNull(key, "key");
        layout.check();
        long now = clock.millis();
        long leaseUntil = Durations.plusMillis(now, lease);
        String nonce = RefusedClaim.nonce(); // in the request: each attempt the SDK makes of this call sends it
        try {
            var response = client.updateItem(b -> b.overrideConfiguration(bounds).tableName(table).key(key(key))
                    // a new item's first token is the clock's microseconds, not 1: once TTL deleted a completed item,
                    // a worker that still held one of its tokens must not find the next holder's equal to its own
                    .updateExpression("SET #state = :inProgress, #lease = :leaseUntil, #ttl = :claimTtl, "
                            + "#token = if_not_exists(#token, :firstToken) + :one, #nonce = :nonce REMOVE #done")
                    .conditionExpression("attribute_not_exists(#k) OR (#state = :inProgress AND #lease <= :now) "
                            + "OR #state = :released OR (#state = :completed AND #ttl <= :nowSeconds)")
                    .expressionAttributeNames(names(n))
                    .expressionAttributeValues(Map.of(
                            ":inProgress", s(IN_PROGRESS), ":completed", s(COMPLETED), ":released", s(RELEASED),
                            ":leaseUntil", num(leaseUntil), ":now", num(now), ":nowSeconds", num(now / 1000),
                            ":claimTtl", num(Durations.plusMillis(leaseUntil, ABANDONED_CLAIM_TTL) / 1000), ":one", num(1),
                            ":firstToken", num(Math.multiplyExact(now, 1000L)), ":nonce", s(nonce)))
                    .returnValues(ReturnValue.UPDATED_NEW)
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD));
            long token = Long.parseLong(response.attributes().get(n.token()).n());
            if (clockCheck.due()) {
                try { // the claim is won: a log handler that throws on the skew's warning must not make it a failure
                    clockCheck.answered(now, clock.millis(), response.sdkHttpResponse());
                } catch (Throwable ignored) {
                    // measured again at the next check
                }
            }
            return new Claim.Acquired(key, token, Instant.ofEpochMilli(leaseUntil));
        } catch (ConditionalCheckFailedException held) { // held: by another, or by this call, its answer lost
            var item = held.hasItem() && !held.item().isEmpty() ? held.item() : read(key);
            return RefusedClaim.of(key, item, nonce, leaseUntil, now, n);
        } catch (RuntimeException e) {
            throw failure("claim", key, e);
        }
    }

    private Map<String, AttributeValue> read(String key) {
        return client.getItem(b -> b.overrideConfiguration(bounds).tableName(table).key(key(key)).consistentRead(true)).item();
    }

    /** The batch's claims sent at once: one round trip of latency, one request per key. */
    @Override
    public List<Claim> claimAll(List<String> keys, Duration lease) {
        layout.check();
        if (keys.size() < 2) {
            return IdempotencyLedger.super.claimAll(keys, lease);
        }
        var futures = new ArrayList<CompletableFuture<Claim>>(keys.size());
        Throwable failed = null;
        for (var key : keys) {
            try {
                futures.add(CompletableFuture.supplyAsync(() -> claim(key, lease), parallel));
            } catch (RuntimeException e) { // closed meanwhile: those sent are still waited for, and released
                failed = new FerryException("DynamoDB ledger '" + table + "' could not send its claims: " + e, e, true);
                break;
            }
        }
        var claims = new ArrayList<Claim>(keys.size());
        for (var f : futures) { // every answer waited for: a claim acquired beside a failed one is released
            try {
                claims.add(f.join());
            } catch (CompletionException e) {
                if (failed == null) {
                    failed = e.getCause() != null ? e.getCause() : e;
                }
            }
        }
        if (failed != null) {
            for (var claim : claims) {
                if (claim instanceof Claim.Acquired a) {
                    try {
                        release(a.key(), a.token());
                    } catch (RuntimeException ignored) {
                        // its lease ends it
                    }
                }
            }
            // what the claim threw, as a claim of one key throws it (not wrapped: an Error stays an Error)
            if (failed instanceof RuntimeException r) {
                throw r;
            }
            if (failed instanceof Error e) {
                throw e;
            }
            throw new FerryException("DynamoDB ledger '" + table + "': a claim failed: " + failed, failed, true);
        }
        return claims;
    }

    /** A completion waits for a DynamoDB round trip: the listener records it off its workers. */
    @Override
    public boolean completionWaits() {
        return true;
    }

    @Override // each call is written to the table before it answers
    public boolean persist() {
        return true;
    }

    @Override
    public boolean complete(String key, long token, Duration ttl) {
        long now = clock.millis();
        var own = new OwnWrite(COMPLETED, token, RefusedClaim.nonce());
        return conditional("complete", key, own, b -> b
                .updateExpression("SET #state = :completed, #done = :now, #ttl = :expires, #nonce = :nonce REMOVE #lease")
                .conditionExpression("#token = :token AND #state = :inProgress")
                .expressionAttributeValues(Map.of(":completed", s(COMPLETED), ":inProgress", s(IN_PROGRESS), ":now", num(now),
                        ":expires", num(Durations.plusMillis(now, ttl) / 1000), ":token", num(token), ":nonce", s(own.nonce()))));
    }

    /**
     * Marks the claim RELEASED instead of deleting the item (#16): the item keeps its token, so the next claim adds 1
     * to it and the released token stays fenced. Deleting it would restart the key's token at 1, and a zombie still
     * holding an old token 1 could then complete or release the next holder's claim.
     *
     * <p>The released item's TTL is a day past the release, the same margin an abandoned claim gets past its lease:
     * every holder of an older token had its lease end before this release, and the ledger already assumes no worker
     * outlives its lease by a day. Until DynamoDB deletes the item the token only grows; once gone, all it fenced are
     * a day stale.
     */
    @Override
    public boolean release(String key, long token) {
        long now = clock.millis();
        var own = new OwnWrite(RELEASED, token, RefusedClaim.nonce());
        return conditional("release", key, own, b -> b
                .updateExpression("SET #state = :released, #ttl = :releasedTtl, #nonce = :nonce REMOVE #lease")
                .conditionExpression("#token = :token AND #state = :inProgress")
                .expressionAttributeValues(Map.of(":released", s(RELEASED), ":inProgress", s(IN_PROGRESS), ":token", num(token),
                        ":releasedTtl", num((now + ABANDONED_CLAIM_TTL.toMillis()) / 1000), ":nonce", s(own.nonce()))));
    }

    @Override
    public boolean extend(String key, long token, Duration lease) { return extend(key, token, lease, null); }

    @Override // bounded by answerWithin too when given, not null: the claim's end is near (CallBounds)
    public boolean extend(String key, long token, Duration lease, Duration answerWithin) {
        long now = clock.millis();
        long leaseUntil = Durations.plusMillis(now, lease);
        return conditional("extend", key, null, b -> b.overrideConfiguration(bounds.extending(lease, answerWithin))
                .updateExpression("SET #lease = :leaseUntil, #ttl = :claimTtl")
                .conditionExpression("#token = :token AND #state = :inProgress AND #lease > :now")
                .expressionAttributeValues(Map.of(":leaseUntil", num(leaseUntil), ":token", num(token), ":inProgress",
                        s(IN_PROGRESS), ":now", num(now), ":claimTtl", num(Durations.plusMillis(leaseUntil, ABANDONED_CLAIM_TTL) / 1000))));
    }

    private boolean conditional(String operation, String key, OwnWrite own,
                                java.util.function.Consumer<software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest.Builder> update) {
        try {
            client.updateItem(b -> {
                b.overrideConfiguration(bounds).tableName(table).key(key(key)).expressionAttributeNames(names(n))
                        .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD); // for OwnWrite
                update.accept(b);
                // DynamoDB refuses names the expressions do not use
                var used = new java.util.HashMap<>(names(n));
                String expressions = b.build().updateExpression() + " " + b.build().conditionExpression();
                used.keySet().removeIf(placeholder -> !expressions.contains(placeholder));
                b.expressionAttributeNames(used);
            });
            return true;
        } catch (ConditionalCheckFailedException refused) { // fenced, unless by this very call (its answer lost)
            return own != null && refused.hasItem() && own.foundIn(refused.item(), n.state(), n.token());
        } catch (RuntimeException e) {
            throw failure(operation, key, e);
        }
    }

    private FerryException failure(String operation, String key, RuntimeException e) {
        boolean retryable = !(e instanceof software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException);
        return new FerryException("DynamoDB ledger '" + table + "': " + operation + " of " + key + " failed: "
                + e.getMessage(), e, retryable);
    }

    @Override
    public Optional<Claim> peek(String key) {
        layout.check();
        Map<String, AttributeValue> item;
        try {
            item = read(key);
        } catch (RuntimeException e) {
            throw failure("peek", key, e);
        }
        if (item == null || item.isEmpty() || !item.containsKey(n.state())) {
            return Optional.empty();
        }
        long now = clock.millis();
        String state = item.get(n.state()).s();
        if (COMPLETED.equals(state)) {
            boolean live = !item.containsKey(n.ttl()) || Long.parseLong(item.get(n.ttl()).n()) > now / 1000;
            return live ? Optional.of(new Claim.Completed(key, Instant.ofEpochMilli(Long.parseLong(item.get(n.completedAt()).n()))))
                    : Optional.empty();
        }
        if (IN_PROGRESS.equals(state)) {
            long leaseUntil = Long.parseLong(item.get(n.leaseUntil()).n());
            return leaseUntil > now ? Optional.of(new Claim.InProgress(key, Instant.ofEpochMilli(leaseUntil))) : Optional.empty();
        }
        return Optional.empty();
    }

    @Override
    public void note(String key, Note note) {
        layout.check();
        journal.note(key, note);
    }

    @Override
    public Optional<Journal> journal(String key) {
        // a table owed from the start is made here too: a window of copies reads only the journal, never claims
        layout.check();
        return journal.journal(key);
    }

    @Override
    public Optional<ParkedGroup> parkedGroup(String source, String group) {
        layout.check();
        return parkedGroups.get(source, group);
    }

    @Override
    public boolean replaceParkedGroup(ParkedGroup expected, ParkedGroup next) {
        layout.check();
        return parkedGroups.replace(expected, next);
    }

    @Override
    public List<ParkedGroup> parkedGroups() {
        layout.check();
        return parkedGroups.all();
    }

    /** Reads the index whole (a few items) and at most {@code limit} groups' items. */
    @Override
    public dev.ferry.domain.parking.ParkedGroupListing parkedGroups(int limit) {
        layout.check();
        return parkedGroups.some(limit);
    }

    @Override
    public void close() {
        parallel.close();
    }
}
