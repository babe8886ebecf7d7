package dev.ferry.adapters.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.parking.ParkedGroup;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Three instances (a ledger and a client each) on one table park and unpark 300 groups at once: the
 * sharded index (64 items, a group's by its key's hash) is contended for by transactions of different
 * groups. Nothing may be lost from the listing,
 * listed twice, or left behind.
 */
class DynamoDbParkedGroupsIT {

    private static final int INSTANCES = 3;
    private static final int PER_INSTANCE = 100;
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private static DynamoDbLocal dynamo;
    private static final List<DynamoDbClient> CLIENTS = new ArrayList<>();

    @BeforeAll
    static void start() {
        dynamo = DynamoDbLocal.start();
        for (int i = 0; i < INSTANCES; i++) {
            CLIENTS.add(dynamo.newClient());
        }
    }

    @AfterAll
    static void stop() {
        CLIENTS.forEach(DynamoDbClient::close);
        CLIENTS.clear();
        if (dynamo != null) {
            dynamo.close();
        }
    }

    /** A work item of one instance: what it parks, and what it unparks later (another instance's). */
    private static List<ParkedGroup> groupsOf(int instance, Instant now) {
        var groups = new ArrayList<ParkedGroup>(PER_INSTANCE);
        for (int j = 0; j < PER_INSTANCE; j++) {
            // instances 0 and 1 park the same group names under two sources (two groups, not one); instance 2 parks
            // long names (a bigger index), and a tenth of names of instance 0's source alike but for their case
            String source = instance == 1 ? "refunds" : "orders";
            String group = switch (instance) {
                case 0, 1 -> "group-" + j;
                default -> j % 10 == 0 ? "GROUP-" + j : "group-" + "x".repeat(200) + "-" + j;
            };
            groups.add(new ParkedGroup(source, group, "head-" + instance + "-" + j, "msg-" + instance + "-" + j,
                    "poison " + instance, now, now, 1, 0, null, 0, 0, false, 1));
        }
        return groups;
    }

    private static String id(ParkedGroup g) {
        return g.source() + "/" + g.group();
    }

    @Test
    void threeInstancesParkAndUnpark300GroupsAtOnce_theListingHasEachOnce_thenNone() throws Exception {
        String table = "ferry-parked-concurrency";
        DynamoDbLedger.createTable(CLIENTS.getFirst(), table, DynamoDbLedger.Names.defaults());
        var ledgers = new ArrayList<DynamoDbLedger>();
        for (var client : CLIENTS) {
            ledgers.add(DynamoDbLedger.of(client, table));
        }
        var now = Instant.now().truncatedTo(ChronoUnit.MILLIS); // as stored
        var work = new ArrayList<List<ParkedGroup>>();
        var expected = new HashSet<String>();
        for (int i = 0; i < INSTANCES; i++) {
            var groups = groupsOf(i, now);
            work.add(groups);
            groups.forEach(g -> expected.add(id(g)));
        }
        assertThat(expected).as("300 distinct (source, group)").hasSize(INSTANCES * PER_INSTANCE);
        var refused = new AtomicInteger();

        try {
            // park: each instance its own hundred, all at once
            runAtOnce(i -> {
                var ledger = ledgers.get(i);
                for (var g : work.get(i)) {
                    park(ledger, g, refused);
                }
            });
            for (var ledger : ledgers) {
                var listed = ledger.parkedGroups();
                assertThat(listed.stream().map(DynamoDbParkedGroupsIT::id).toList())
                        .as("every instance lists the 300, each once")
                        .hasSize(expected.size())
                        .containsExactlyInAnyOrderElementsOf(expected);
                assertThat(listed).as("as parked").allSatisfy(g -> {
                    assertThat(g.version()).isEqualTo(1);
                    assertThat(g.since()).isEqualTo(now);
                    assertThat(g.parked()).isEqualTo(1);
                });
                var some = ledger.parkedGroups(50);
                assertThat(some.total()).as("the total of a bounded listing").isEqualTo(expected.size());
                assertThat(some.groups()).hasSize(50);
                assertThat(some.groups().stream().map(DynamoDbParkedGroupsIT::id).toList())
                        .doesNotHaveDuplicates().allMatch(expected::contains);
                assertThat(some.complete()).isFalse();
                var none = ledger.parkedGroups(0);
                assertThat(none.groups()).isEmpty();
                assertThat(none.total()).isEqualTo(expected.size());
            }
            for (var list : work) {
                for (var g : list) {
                    assertThat(ledgers.get(2).parkedGroup(g.source(), g.group())).as(id(g)).isPresent();
                }
            }
            assertThat(ledgers.stream().mapToLong(DynamoDbLedger::unlistedParkedGroups).sum())
                    .as("no shard full at 300 groups: none parked unlisted").isZero();

            // unpark: each instance the hundred another one parked, all at once
            runAtOnce(i -> {
                var ledger = ledgers.get(i);
                for (var g : work.get((i + 1) % INSTANCES)) {
                    unpark(ledger, g, refused);
                }
            });
            for (var ledger : ledgers) {
                assertThat(ledger.parkedGroups()).as("none left listed").isEmpty();
                var some = ledger.parkedGroups(50);
                assertThat(some.groups()).isEmpty();
                assertThat(some.total()).as("total after unparking every group").isZero();
            }
            for (var list : work) {
                for (var g : list) {
                    assertThat(ledgers.getFirst().parkedGroup(g.source(), g.group())).as(id(g)).isEmpty();
                }
            }
            // a review: every unpark also wrote the earlier versions' single index, made it on a table that never had
            // one, and had every unpark contend for that one item again
            var legacy = CLIENTS.getFirst().getItem(b -> b.tableName(table).key(java.util.Map.of("pk",
                    software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("p-index"))).consistentRead(true));
            assertThat(legacy.hasItem() && !legacy.item().isEmpty()).as("p-index never made").isFalse();
        } finally {
            ledgers.forEach(DynamoDbLedger::close);
        }
        // not asserted (DynamoDB Local may serialise transactions): how often a write lost to another's at once
        System.out.println("DynamoDbParkedGroupsIT: writes refused for a concurrent transaction, retried: " + refused.get());
    }

    /** Parks {@code g}: a refusal (another transaction on the same index item) is retried, a bounded number of times. */
    private static void park(DynamoDbLedger ledger, ParkedGroup g, AtomicInteger refused) {
        for (int attempt = 0; attempt < 500; attempt++) {
            if (ledger.replaceParkedGroup(null, g)) {
                return;
            }
            refused.incrementAndGet();
            var stored = ledger.parkedGroup(g.source(), g.group());
            if (stored.isPresent()) {
                // no one else parks this group: present means a write of ours went through (an SDK retry)
                assertThat(stored.get().version()).as(id(g)).isEqualTo(g.version());
                return;
            }
            pause(attempt);
        }
        throw new AssertionError("park of " + id(g) + " refused 500 times");
    }

    /** Unparks {@code g} as stored now; a refusal is retried on what is stored then. */
    private static void unpark(DynamoDbLedger ledger, ParkedGroup g, AtomicInteger refused) {
        for (int attempt = 0; attempt < 500; attempt++) {
            var stored = ledger.parkedGroup(g.source(), g.group());
            if (stored.isEmpty()) {
                if (attempt == 0) {
                    throw new AssertionError(id(g) + " was not parked when its unpark began");
                }
                return; // a write of ours went through after all
            }
            if (ledger.replaceParkedGroup(stored.get(), null)) {
                return;
            }
            refused.incrementAndGet();
            pause(attempt);
        }
        throw new AssertionError("unpark of " + id(g) + " refused 500 times");
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(1 + Math.min(attempt, 20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private interface Work {
        void run(int instance) throws Exception;
    }

    /** Runs {@code work} for each instance on a thread of its own, released together; bounded by {@link #DEADLINE}. */
    private static void runAtOnce(Work work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(INSTANCES);
        var go = new CountDownLatch(1);
        var futures = new ArrayList<Future<?>>();
        try {
            for (int i = 0; i < INSTANCES; i++) {
                int instance = i;
                futures.add(pool.submit(() -> {
                    go.await();
                    work.run(instance);
                    return null;
                }));
            }
            go.countDown();
            pool.shutdown();
            assertThat(pool.awaitTermination(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("done within " + DEADLINE).isTrue();
            for (var f : futures) {
                f.get(1, TimeUnit.SECONDS); // what a thread threw (an assertion, the ledger's failure) fails the test
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static dev.ferry.domain.parking.ParkedGroup parked(String group) {
        var now = Instant.now();
        return new dev.ferry.domain.parking.ParkedGroup("orders", group, "head-1", null, "poison", now, now, 1, 0, null, 0, 0,
                false, 1);
    }

    @Test // one index item holds 400 KB: ~400 groups of long keys filled it, and every later park failed as an outage
    void parkedGroupsPastWhatOneIndexItemHolds_areParkedListedAndUnparked_withAnEarlierVersionsIndexReadToo() {
        String table = newTable(DynamoDbLedger.Names.defaults());
        var ledger = DynamoDbLedger.of(CLIENTS.getFirst(), table);
        var groups = new java.util.ArrayList<dev.ferry.domain.parking.ParkedGroup>();
        String pad = "g".repeat(1_000);
        for (int i = 0; i < 500; i++) {
            var g = parked(pad + i);
            assertThat(ledger.replaceParkedGroup(null, g)).as("park " + i).isTrue();
            groups.add(g);
        }
        assertThat(ledger.parkedGroups()).hasSize(500);
        assertThat(ledger.unlistedParkedGroups()).isZero();

        // an earlier version listed its groups in one item, p-index: read too, and unparked from
        String first = "p:6:orders:" + groups.getFirst().group();
        CLIENTS.getFirst().updateItem(b -> b.tableName(table).key(java.util.Map.of("pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("p-index")))
                .updateExpression("ADD parkedGroups :m").expressionAttributeValues(java.util.Map.of(":m", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromSs(List.of(first)))));
        assertThat(ledger.parkedGroups()).as("listed once").hasSize(500);

        for (var g : groups) {
            assertThat(ledger.replaceParkedGroup(g, null)).isTrue();
        }
        assertThat(ledger.parkedGroups()).isEmpty();
        var legacy = CLIENTS.getFirst().getItem(b -> b.tableName(table).key(java.util.Map.of("pk", software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("p-index")))
                .consistentRead(true)).item();
        assertThat(legacy.containsKey("parkedGroups")).as("unparked from the earlier index too").isFalse();
    }

    @Test // past what even the shards hold, a park is not an outage: the group is parked, unlisted, and said so
    void aFullIndex_parksTheGroupAllTheSame_unlisted() {
        String table = newTable(DynamoDbLedger.Names.defaults());
        var ledger = DynamoDbLedger.withIndexShards(CLIENTS.getFirst(), table, 1);
        String pad = "g".repeat(1_000);
        for (int i = 0; i < 500; i++) {
            assertThat(ledger.replaceParkedGroup(null, parked(pad + i))).as("park " + i).isTrue();
        }
        long unlisted = ledger.unlistedParkedGroups();
        assertThat(unlisted).as("one item of 400 KB holds fewer than 500 keys of 1 KB").isPositive();
        assertThat(ledger.parkedGroups()).hasSize((int) (500 - unlisted));
        for (int i = 0; i < 500; i++) {
            assertThat(ledger.parkedGroup("orders", pad + i)).as("in force for every instance").isPresent();
        }
    }

    private static final java.util.concurrent.atomic.AtomicInteger TABLES = new java.util.concurrent.atomic.AtomicInteger();

    private static String newTable(DynamoDbLedger.Names names) {
        String table = "ferry-parked-" + TABLES.incrementAndGet();
        DynamoDbLedger.createTable(CLIENTS.getFirst(), table, names);
        return table;
    }
}
