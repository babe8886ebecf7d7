package dev.ferry.adapters.dynamodb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.contract.EventJournalContract;
import dev.ferry.domain.contract.GroupParkingContract;
import dev.ferry.domain.contract.LedgerContract;
import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import dev.ferry.domain.parking.GroupParking;
import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.TimeToLiveStatus;

/** The DynamoDB ledger on DynamoDB Local, a real server on 127.0.0.1. */
class DynamoDbLedgerIT {

    private static final AtomicInteger TABLES = new AtomicInteger();
    private static DynamoDbLocal dynamo;
    private static DynamoDbClient client;

    @BeforeAll
    static void start() {
        dynamo = DynamoDbLocal.start();
        client = dynamo.newClient();
    }

    @AfterAll
    static void stop() {
        client.close();
        dynamo.close();
    }

    private static String newTable(DynamoDbLedger.Names names) {
        String table = "ferry-ledger-" + TABLES.incrementAndGet();
        DynamoDbLedger.createTable(client, table, names);
        return table;
    }

    @Nested
    class Contract extends LedgerContract {
        @Override
        protected IdempotencyLedger newLedger(MutableClock clock) {
            var names = DynamoDbLedger.Names.defaults();
            return DynamoDbLedger.of(client, newTable(names), names, clock);
        }
    }

    /** Parked groups in the ledger's table, custom key name and all; listed from the index item, not a scan. */
    @Nested
    class Parking extends GroupParkingContract {
        @Override
        protected GroupParking newStore(MutableClock clock) {
            var names = new DynamoDbLedger.Names("id", "st", "tok", "lease", "done", "ttl");
            return DynamoDbLedger.of(client, newTable(names), names, clock);
        }
    }

    /** The event journal (items beside the ledger's, counts added by UpdateItem) and peek. */
    @Nested
    class Journal extends EventJournalContract {
        @Override
        protected IdempotencyLedger newLedger(MutableClock clock) {
            var names = DynamoDbLedger.Names.defaults();
            return DynamoDbLedger.of(client, newTable(names), names, clock);
        }
    }

    @Test // a review: a handler's own step keyed by a 3 KB Kafka key failed every claim (DynamoDB refuses keys over 2 KiB),
          // and two keys differing only in half a surrogate pair were one item ('?'): the second step never ran
    void keysDynamoDbWouldRefuseOrMerge_areEachTheirOwn() {
        var names = DynamoDbLedger.Names.defaults();
        var ledger = DynamoDbLedger.of(client, newTable(names), names, java.time.Clock.systemUTC());
        String big = "charge:" + "k".repeat(3_000);
        var claim = (Claim.Acquired) ledger.claim(big, java.time.Duration.ofSeconds(30));
        assertThat(ledger.extend(big, claim.token(), java.time.Duration.ofSeconds(60))).isTrue();
        assertThat(ledger.complete(big, claim.token(), java.time.Duration.ofHours(1))).isTrue();
        assertThat(ledger.claim(big, java.time.Duration.ofSeconds(30))).isInstanceOf(Claim.Completed.class);
        assertThat(ledger.claim(big.substring(0, big.length() - 1), java.time.Duration.ofSeconds(30)))
                .as("one character less is another key").isInstanceOf(Claim.Acquired.class);

        var high = (Claim.Acquired) ledger.claim("step:a\uD800", java.time.Duration.ofSeconds(30));
        assertThat(ledger.complete("step:a\uD800", high.token(), java.time.Duration.ofHours(1))).isTrue();
        assertThat(ledger.claim("step:a\uDC00", java.time.Duration.ofSeconds(30))).as("not the same '?'")
                .isInstanceOf(Claim.Acquired.class);
        assertThat(ledger.peek("step:a\uD800")).get().isInstanceOf(Claim.Completed.class);
    }

    @Test
    void createTable_turnsOnTtl_andIsIdempotent() {
        var names = new DynamoDbLedger.Names("id", "st", "tok", "lease", "done", "ttl");
        String table = newTable(names);
        DynamoDbLedger.createTable(client, table, names);
        var ttl = client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription();
        assertThat(ttl.attributeName()).isEqualTo("ttl");
        assertThat(ttl.timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
    }

    /** What a call does before it reaches the real client: another instance's call, an injected refusal. */
    private interface BeforeCall {
        void run(java.lang.reflect.Method method, Object[] args) throws Throwable;
    }

    /** The real client, each call first shown to {@code before}. */
    private software.amazon.awssdk.services.dynamodb.DynamoDbClient intercepting(BeforeCall before) {
        return (software.amazon.awssdk.services.dynamodb.DynamoDbClient) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {software.amazon.awssdk.services.dynamodb.DynamoDbClient.class},
                (proxy, method, args) -> {
                    before.run(method, args);
                    try {
                        return method.invoke(client, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void createTable_whenAnotherInstanceTurnedTtlOnMeanwhile_doesNotFailTheStart() {
        // two instances starting at once: the one that created the table waits for it, the other finds it and turns TTL on;
        // the creator's own TTL call was then refused (TTL on already) and its start failed
        var names = DynamoDbLedger.Names.defaults();
        String table = "race-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        var other = new java.util.concurrent.atomic.AtomicBoolean(true);
        var racing = intercepting((method, args) -> {
            if (method.getName().equals("updateTimeToLive") && other.getAndSet(false)) {
                method.invoke(client, args); // the other instance, first
            }
        });

        DynamoDbLedger.createTable(racing, table, names);

        var ttl = client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription();
        assertThat(ttl.timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
        assertThat(ttl.attributeName()).isEqualTo(names.ttl());
    }

    @Test
    void createTable_whoseTtlCannotBeTurnedOn_norAskedAbout_failsTheStart_ratherThanNeverExpiring() {
        var names = DynamoDbLedger.Names.defaults();
        String table = "nottl-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        var denied = intercepting((method, args) -> {
            if (method.getName().endsWith("TimeToLive")) {
                throw software.amazon.awssdk.services.dynamodb.model.DynamoDbException.builder()
                        .message("not authorized (injected)").statusCode(403).build();
            }
        });

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DynamoDbLedger.createTable(denied, table, names))
                .isInstanceOf(dev.ferry.domain.model.FerryException.class).hasMessageContaining("TTL");
    }

    @Test
    void createTable_onATableThatExistsWithoutTtl_turnsItOn() {
        // a first run whose TTL call was refused (a permission missing), then run again: the table existed, so TTL was
        // never turned on, and nothing in it ever expired
        var names = DynamoDbLedger.Names.defaults();
        String table = "bare-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        client.createTable(b -> b.tableName(table).billingMode(software.amazon.awssdk.services.dynamodb.model.BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(software.amazon.awssdk.services.dynamodb.model.AttributeDefinition.builder()
                        .attributeName(names.key()).attributeType(software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType.S).build())
                .keySchema(software.amazon.awssdk.services.dynamodb.model.KeySchemaElement.builder().attributeName(names.key())
                        .keyType(software.amazon.awssdk.services.dynamodb.model.KeyType.HASH).build()));

        DynamoDbLedger.createTable(client, table, names);

        var ttl = client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription();
        assertThat(ttl.timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
        assertThat(ttl.attributeName()).isEqualTo(names.ttl());
    }

    @Test // a review: DescribeTimeToLive is an action of its own, missing from the role the docs gave: TTL was never turned on
    void createTable_onATableThatExistsWithoutTtl_turnsItOn_evenWhenItsTtlCannotBeAskedAbout() {
        var names = DynamoDbLedger.Names.defaults();
        String table = "bare-noask-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        createKeyedBy(table, names.key());
        var cannotAsk = intercepting((method, args) -> {
            if (method.getName().equals("describeTimeToLive")) {
                throw software.amazon.awssdk.services.dynamodb.model.DynamoDbException.builder()
                        .message("not authorized to perform dynamodb:DescribeTimeToLive (injected)").statusCode(403).build();
            }
        });

        DynamoDbLedger.createTable(cannotAsk, table, names);

        var ttl = client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription();
        assertThat(ttl.timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
        assertThat(ttl.attributeName()).isEqualTo(names.ttl());
        DynamoDbLedger.createTable(cannotAsk, table, names); // on already: nothing to do, nothing thrown
    }

    @Test // a review: a table keyed otherwise started a run that stood ready, then held its first message for ever
    void aTableKeyedOtherwise_failsTheOpen_namingTheKeyTheLedgerReads() {
        String table = "keyed-by-id-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        createKeyedBy(table, "id");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TableAtOpen.check(client, table, null))
                .isInstanceOf(dev.ferry.domain.model.FerryException.class)
                .hasMessageContaining("'" + table + "'").hasMessageContaining("partition key 'pk'");
        TableAtOpen.check(client, tableKeyedAsTheLedgerReads(), null); // and one keyed so opens
    }

    @Test // a review: a role without the ledger's permissions was warned of and started ready, its first message held for ever
    void aTableTheseCredentialsMayNotRead_failsTheOpen_namingThePermissions() {
        var denied = deniedGetItem(asked -> true);
        String table = tableKeyedAsTheLedgerReads();
        // asked again for the patience (a policy attached with the task takes effect within seconds), then refused
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TableAtOpen.check(denied, table, null))
                .isInstanceOf(dev.ferry.domain.model.FerryException.class)
                .hasMessageContaining("'" + table + "'").hasMessageContaining("dynamodb:GetItem");
        var asked = new java.util.concurrent.atomic.AtomicInteger();
        var deniedAMoment = deniedGetItem(n -> asked.incrementAndGet() <= 2);
        TableAtOpen.check(deniedAMoment, table, null); // the policy came into force: it opens
        assertThat(asked).as("asked until allowed").hasValue(3);
    }

    @Test // a review: no credentials at all (keys never mounted, no role reachable) was warned of: the run stood ready while
          // idle, then held its first message for ever as a ledger outage
    void aRunWithoutCredentials_failsTheOpen_namingThem_afterAskingAgain() {
        String table = tableKeyedAsTheLedgerReads();
        var was = TableAtOpen.patience;
        TableAtOpen.patience = Duration.ofSeconds(2);
        var asked = new java.util.concurrent.atomic.AtomicInteger();
        try (var none = DynamoDbClient.builder().endpointOverride(dynamo.endpoint())
                .region(software.amazon.awssdk.regions.Region.US_EAST_1).credentialsProvider(() -> {
                    asked.incrementAndGet();
                    throw software.amazon.awssdk.core.exception.SdkClientException.create(
                            "Unable to load credentials from any of the providers in the chain (injected)");
                }).build()) {
            assertThatThrownBy(() -> TableAtOpen.check(none, table, null)).isInstanceOf(FerryException.class)
                    .hasMessageContaining("'" + table + "'").hasMessageContaining("credentials were not found");
            assertThat(asked).as("asked again within the patience (a role's credentials come late)").hasValueGreaterThan(1);
            TableAtOpen.check(none, table, null, DynamoDbLedger.Names.defaults().key(), false); // making it: warned only
        } finally {
            TableAtOpen.patience = was;
        }
    }

    @Test // a review: credentials DynamoDB does not take (another partition's key, a session expired) were warned of too
    void credentialsDynamoDbRefuses_failTheOpen_andOnesThatComeRightInAMoment_openIt() {
        String table = tableKeyedAsTheLedgerReads();
        var was = TableAtOpen.patience;
        TableAtOpen.patience = Duration.ofSeconds(2);
        try {
            assertThatThrownBy(() -> TableAtOpen.check(refusedCredentials(n -> true), table, null))
                    .isInstanceOf(FerryException.class).hasMessageContaining("credentials were refused")
                    .hasMessageContaining("UnrecognizedClientException");
            var calls = new java.util.concurrent.atomic.AtomicInteger();
            TableAtOpen.check(refusedCredentials(n -> calls.incrementAndGet() <= 1), table, null); // a token refreshed
            assertThat(calls).hasValue(2);
        } finally {
            TableAtOpen.patience = was;
        }
    }

    private DynamoDbClient refusedCredentials(java.util.function.IntPredicate refused) {
        return refusingGetItem("UnrecognizedClientException", "The security token included in the request is invalid.",
                refused);
    }

    @Test // a review of the fix: making the table needs no GetItem; a provisioning role's create-table run again failed
    void creatingATableThatExists_withARoleThatMayNotReadItems_isDone_warned() {
        var denied = deniedGetItem(asked -> true);
        String table = tableKeyedAsTheLedgerReads();
        DynamoDbLedger.createTable(denied, table, DynamoDbLedger.Names.defaults()); // there already: done, not refused
        assertThat(client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription().attributeName())
                .as("its TTL turned on all the same").isEqualTo(DynamoDbLedger.Names.defaults().ttl());
    }

    @Test // a review of the fix: a run with create-table: true took the provisioning command's path — a denied GetItem
          // warned of, the run ready, then every message held as a ledger outage
    void aRunThatMakesItsTable_withCredentialsThatMayNotReadIt_failsItsStart_theCommandOnlyWarns() {
        var denied = deniedGetItem(n -> true);
        String table = tableKeyedAsTheLedgerReads();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DynamoDbModule.prepare(denied, table, true, run(false)))
                .isInstanceOf(dev.ferry.domain.model.FerryException.class).hasMessageContaining("dynamodb:GetItem");
        DynamoDbModule.prepare(denied, table, true, run(true)); // ferry ledger create-table: made (there), warned of
    }

    @Test // a review of the fix: a local run (an embedded SQS server provisions its queues) against a table in AWS made
          // (or joined) that table in the account its credentials named: a production config tried locally shared its keys
    void aLocalRunsProvisioning_makesNoTableOfALedgerWithoutAnEndpointOfItsOwn() {
        var was = TableAtOpen.patience;
        TableAtOpen.patience = java.time.Duration.ofSeconds(2);
        String table = "not-made-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        var localRun = run(true, false);
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DynamoDbModule.prepare(client, table, false, localRun))
                    .isInstanceOf(dev.ferry.domain.model.FerryException.class).hasMessageContaining("does not exist");
            assertThat(client.listTables().tableNames()).doesNotContain(table);
            DynamoDbModule.prepare(client, table, true, localRun); // create-table: true, or an endpoint of its own: made
            assertThat(client.listTables().tableNames()).contains(table);
        } finally {
            TableAtOpen.patience = was;
        }
    }

    @Test // a review: with create-table: true, DynamoDB unreachable at the start (or slow, or credentials not there yet)
          // failed the start "cannot create" — every route down until a restart; with create-table: false it went on
    void aRunThatMakesItsTable_whileDynamoDbCannotBeReached_startsWarned_asOneThatDoesNot() {
        try (var unreachable = software.amazon.awssdk.services.dynamodb.DynamoDbClient.builder()
                .endpointOverride(java.net.URI.create("http://127.0.0.1:1")) // nothing listens: refused at once
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("local", "local")))
                .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(1))
                        .apiCallTimeout(java.time.Duration.ofSeconds(5)))
                .build()) {
            DynamoDbModule.prepare(unreachable, "orders-ledger", true, run(false)); // warned: the first claim decides
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DynamoDbModule.prepare(unreachable, "orders-ledger",
                    true, run(true))).as("ferry ledger create-table: said as it is")
                    .isInstanceOf(dev.ferry.domain.model.FerryException.class).hasMessageContaining("cannot create");
        }
    }

    @Test // a review of the fix above: the start went on, warned, and when DynamoDB came up without the table nothing made
          // it — every claim refused as an outage ("the layout check ... ResourceNotFound") until a restart by hand
    void aTableARunCouldNotMakeAtItsStart_isMadeByItsFirstClaimOnceDynamoDbAnswers() {
        var down = new java.util.concurrent.atomic.AtomicBoolean(true);
        var ttlRefusals = new AtomicInteger(1); // a review: made, its TTL refused once, it was never asked again
        var flaky = intercepting((method, args) -> {
            if (down.get() && List.of("createTable", "getItem", "updateItem", "waiter").contains(method.getName())) {
                throw software.amazon.awssdk.core.exception.SdkClientException.create("Unable to execute HTTP request: "
                        + "Connection refused (injected)");
            }
            if (method.getName().equals("updateTimeToLive") && ttlRefusals.getAndDecrement() > 0) {
                throw software.amazon.awssdk.core.exception.SdkClientException.create("Read timed out (injected)");
            }
        });
        String table = "made-late-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        try (var ledger = DynamoDbModule.open(flaky, table, true, run(false))) { // warned: DynamoDB not there yet
            assertThat(client.listTables().tableNames()).doesNotContain(table);
            assertThatThrownBy(() -> ledger.claim("while-down", Duration.ofSeconds(30))).isInstanceOf(FerryException.class);

            down.set(false); // DynamoDB up, empty

            // a claim refused meanwhile is the ledger's outage (held, asked again); made within one retry's pause of 5 s
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(20), () -> {
                try {
                    return ledger.claim("order-1", Duration.ofSeconds(30)) instanceof Claim.Acquired;
                } catch (FerryException stillDown) {
                    return false;
                }
            })).as("the table made once DynamoDB answers, and the claim taken").isTrue();
            assertThat(client.listTables().tableNames()).contains(table);
            var claims = new AtomicInteger();
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(20), () -> {
                ledger.claim("later-" + claims.incrementAndGet(), Duration.ofSeconds(30)); // its TTL asked again by one
                return List.of(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING).contains(client.describeTimeToLive(
                        b -> b.tableName(table)).timeToLiveDescription().timeToLiveStatus());
            })).as("made whole: its TTL on").isTrue();
        }
    }

    @Test // a review of the fix above: a window full of copies (a pod stopped in the same outage) reads only the journal,
          // each read failing "not found" and holding its copy before any claim — the table owed was never made
    void aTableARunCouldNotMakeAtItsStart_isMadeByAJournalReadOnceDynamoDbAnswers() {
        var down = new java.util.concurrent.atomic.AtomicBoolean(true);
        var flaky = intercepting((method, args) -> {
            if (down.get() && List.of("createTable", "getItem", "updateItem", "waiter").contains(method.getName())) {
                throw software.amazon.awssdk.core.exception.SdkClientException.create("Unable to execute HTTP request: "
                        + "Connection refused (injected)");
            }
        });
        String table = "made-by-read-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        String copy = dev.ferry.domain.idempotency.EventJournal.messageKey("orders", "m-1");
        try (var ledger = DynamoDbModule.open(flaky, table, true, run(false))) { // warned: DynamoDB not there yet
            assertThat(client.listTables().tableNames()).doesNotContain(table);
            assertThatThrownBy(() -> ledger.journal(copy)).isInstanceOf(FerryException.class)
                    .satisfies(e -> assertThat(((FerryException) e).retryable()).as("a copy's read in the outage: held")
                            .isTrue());

            down.set(false); // DynamoDB up, empty; no claim is ever asked

            // a read refused meanwhile holds the copy (asked again); made within one retry's pause of 5 s
            assertThat(dev.ferry.domain.testing.Await.until(Duration.ofSeconds(20), () -> {
                try {
                    ledger.journal(copy);
                    return true;
                } catch (FerryException stillDown) {
                    return false;
                }
            })).as("the table made once DynamoDB answers, by the journal's read alone").isTrue();
            assertThat(client.listTables().tableNames()).contains(table);
            assertThat(ledger.journal(copy)).as("read: nothing noted of the copy").isEmpty();
        }
    }

    @Test // a review of the fix: a table made at the start whose TTL (or wait) failed on a blip was seen, and not owed —
          // nothing in it expired for the life of the process
    void aTableMadeAtTheStartWhoseTtlFailed_isMadeWholeByItsFirstClaim() {
        var ttlRefusals = new AtomicInteger(1);
        var blip = intercepting((method, args) -> {
            if (method.getName().equals("updateTimeToLive") && ttlRefusals.getAndDecrement() > 0) {
                throw software.amazon.awssdk.core.exception.SdkClientException.create("Read timed out (injected)");
            }
        });
        String table = "ttl-late-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        try (var ledger = DynamoDbModule.open(blip, table, true, run(false))) {
            assertThat(client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription().timeToLiveStatus())
                    .as("made, its TTL refused at the start").isEqualTo(TimeToLiveStatus.DISABLED);

            assertThat(ledger.claim("order-1", Duration.ofSeconds(30))).isInstanceOf(Claim.Acquired.class);

            assertThat(client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription().timeToLiveStatus())
                    .as("made whole by the first claim").isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
        }
    }

    @Test // a review of the fix above: a CreateTable refused for good (no dynamodb:CreateTable) then failed the start with
          // "does not exist: set create-table: true" — a setting already on, its refusal in an earlier line only
    void aRunWhoseCreateTableIsRefused_andWhoseTableIsNotThere_failsNamingTheRefusal() {
        var was = TableAtOpen.patience;
        TableAtOpen.patience = java.time.Duration.ofSeconds(1);
        var refusing = intercepting((method, args) -> {
            if (method.getName().equals("createTable")) {
                throw software.amazon.awssdk.services.dynamodb.model.DynamoDbException.builder()
                        .message("User is not authorized to perform: dynamodb:CreateTable (injected)").statusCode(400)
                        .awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder()
                                .errorCode("AccessDeniedException").build()).build();
            }
        });
        String table = "never-made-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DynamoDbModule.prepare(refusing, table, true, run(false)))
                    .isInstanceOf(dev.ferry.domain.model.FerryException.class)
                    .hasMessageContaining("could not be created (create-table: true)")
                    .hasMessageContaining("dynamodb:CreateTable");
        } finally {
            TableAtOpen.patience = was;
        }
    }

    private static dev.ferry.domain.spi.AdapterContext run(boolean provisionOnly) {
        return run(provisionOnly, provisionOnly);
    }

    /** A run's context on this machine's DynamoDB; {@code provisionOnly}: `ferry ledger create-table`'s. */
    private static dev.ferry.domain.spi.AdapterContext run(boolean provision, boolean provisionOnly) {
        return new dev.ferry.domain.spi.AdapterContext() {
            @Override
            public String awsRegion() {
                return "us-east-1";
            }

            @Override
            public java.util.Optional<java.net.URI> awsEndpoint() {
                return java.util.Optional.empty();
            }

            @Override
            public boolean localCredentials() {
                return true;
            }

            @Override
            public boolean provision() {
                return provision;
            }

            @Override
            public boolean provisionOnly() {
                return provisionOnly;
            }

            @Override
            public int maxReceives() {
                return 5;
            }

            @Override
            public <T> T shared(String key, Class<T> type, java.util.function.Supplier<T> create) {
                return create.get();
            }
        };
    }

    @Test // a review: with create-table on (or `ferry ledger create-table`), a table there already was never checked
    void creatingATableThatExistsKeyedOtherwise_failsNamingTheKey_notReadyWhileEveryClaimIsRefused() {
        String table = "made-by-hand-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        createKeyedBy(table, "id");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> DynamoDbLedger.createTable(client, table, DynamoDbLedger.Names.defaults()))
                .isInstanceOf(dev.ferry.domain.model.FerryException.class)
                .hasMessageContaining("'" + table + "'").hasMessageContaining("partition key 'pk'")
                .hasMessageContaining("name another table") // not "make it with create-table": that is what failed
                .hasMessageNotContaining("make it with");
        String keyedSo = tableKeyedAsTheLedgerReads();
        DynamoDbLedger.createTable(client, keyedSo, DynamoDbLedger.Names.defaults()); // there already, keyed so: fine
        assertThat(client.describeTimeToLive(b -> b.tableName(keyedSo)).timeToLiveDescription().attributeName())
                .as("and its TTL turned on").isEqualTo(DynamoDbLedger.Names.defaults().ttl());
    }

    /** A client whose GetItem is refused as a role without the permission is, while {@code refused} says so. */
    private DynamoDbClient deniedGetItem(java.util.function.IntPredicate refused) {
        return refusingGetItem("AccessDeniedException", "User is not authorized to perform: dynamodb:GetItem", refused);
    }

    /** A client whose GetItem is answered {@code code} ({@code message}) while {@code refused} says so of the call's count. */
    private DynamoDbClient refusingGetItem(String code, String message, java.util.function.IntPredicate refused) {
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        return intercepting((method, args) -> {
            if (method.getName().equals("getItem") && refused.test(calls.incrementAndGet())) {
                throw software.amazon.awssdk.services.dynamodb.model.DynamoDbException.builder()
                        .message(message + " (injected)").statusCode(400)
                        .awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder()
                                .errorCode(code).build()).build();
            }
        });
    }

    private String tableKeyedAsTheLedgerReads() {
        String table = "keyed-by-pk-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        createKeyedBy(table, DynamoDbLedger.Names.defaults().key());
        return table;
    }

    private static void createKeyedBy(String table, String key) {
        client.createTable(b -> b.tableName(table).billingMode(software.amazon.awssdk.services.dynamodb.model.BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(software.amazon.awssdk.services.dynamodb.model.AttributeDefinition.builder()
                        .attributeName(key).attributeType(software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType.S).build())
                .keySchema(software.amazon.awssdk.services.dynamodb.model.KeySchemaElement.builder().attributeName(key)
                        .keyType(software.amazon.awssdk.services.dynamodb.model.KeyType.HASH).build()));
    }

    @Test
    void aKeyWhoseCompletedItemTtlDeleted_givesItsNextHolderATokenNoZombieHolds() {
        var names = DynamoDbLedger.Names.defaults();
        var clock = new MutableClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)); // see LedgerContract
        String table = newTable(names);
        var ledger = DynamoDbLedger.of(client, table, names, clock);
        var zombie = (Claim.Acquired) ledger.claim("k", Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(31)); // the zombie's lease ran out, it runs on
        var second = (Claim.Acquired) ledger.claim("k", Duration.ofSeconds(30));
        assertThat(ledger.complete("k", second.token(), Duration.ofSeconds(150))).isTrue();
        // DynamoDB's TTL deletes the completed item
        client.deleteItem(b -> b.tableName(table).key(java.util.Map.of(names.key(),
                software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("k"))));
        clock.advance(Duration.ofSeconds(200));
        var third = (Claim.Acquired) ledger.claim("k", Duration.ofSeconds(30));

        assertThat(third.token()).isNotEqualTo(zombie.token()).isNotEqualTo(second.token());
        assertThat(ledger.release("k", zombie.token())).as("the zombie frees nothing").isFalse();
        assertThat(ledger.complete("k", zombie.token(), Duration.ofDays(1))).as("nor completes").isFalse();
        assertThat(ledger.claim("k", Duration.ofSeconds(30))).as("the third holds it").isInstanceOf(Claim.InProgress.class);
    }

    @Test // a review: the Error reached the caller wrapped in a CompletionException, which the port does not promise
    void claimAll_whoseClaimThrowsAnError_throwsIt_andReleasesTheOthers() {
        var names = DynamoDbLedger.Names.defaults();
        var clock = new MutableClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        String table = newTable(names);
        var broken = intercepting((method, args) -> {
            if (method.getName().equals("updateItem") && args[0] instanceof java.util.function.Consumer<?> c) {
                var request = software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest.builder();
                @SuppressWarnings("unchecked")
                var fill = (java.util.function.Consumer<software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest.Builder>) c;
                fill.accept(request);
                if (request.build().key().values().stream().anyMatch(v -> "bad".equals(v.s()))) {
                    throw new AssertionError("injected");
                }
            }
        });
        var ledger = DynamoDbLedger.of(broken, table, names, clock);
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ledger.claimAll(java.util.List.of("good", "bad"),
                    Duration.ofSeconds(30))).isInstanceOf(AssertionError.class).hasMessage("injected");
            assertThat(ledger.claim("good", Duration.ofSeconds(30))).as("released").isInstanceOf(Claim.Acquired.class);
        } finally {
            ledger.close();
        }
    }

    @Test
    void customAttributeNames_areUsed() {
        var names = new DynamoDbLedger.Names("id", "st", "tok", "lease", "done", "ttl");
        var clock = new MutableClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)); // see LedgerContract
        String table = newTable(names);
        var ledger = DynamoDbLedger.of(client, table, names, clock);
        var a = (Claim.Acquired) ledger.claim("doc-9#0", Duration.ofSeconds(30));
        assertThat(ledger.complete("doc-9#0", a.token(), Duration.ofDays(1))).isTrue();

        var item = client.getItem(b -> b.tableName(table).key(java.util.Map.of("id",
                software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("doc-9#0")))).item();
        assertThat(item).containsKeys("id", "st", "tok", "done", "ttl").doesNotContainKey("lease");
        assertThat(item.get("st").s()).isEqualTo("COMPLETED");
        assertThat(Long.parseLong(item.get("ttl").n())).isEqualTo(clock.instant().plus(Duration.ofDays(1)).getEpochSecond());
    }

    @Test
    void twoLedgerInstances_onOneTable_neverBothHoldAKey() throws Exception {
        var names = DynamoDbLedger.Names.defaults();
        String table = newTable(names);
        try (var otherClient = dynamo.newClient()) {
            var a = DynamoDbLedger.of(client, table);
            var b = DynamoDbLedger.of(otherClient, table);
            var keys = java.util.stream.IntStream.range(0, 50).mapToObj(i -> "k" + i).toList();
            var fromA = java.util.concurrent.CompletableFuture.supplyAsync(() -> a.claimAll(keys, Duration.ofSeconds(30)));
            var fromB = java.util.concurrent.CompletableFuture.supplyAsync(() -> b.claimAll(keys, Duration.ofSeconds(30)));
            List<Claim> ca = fromA.get();
            List<Claim> cb = fromB.get();
            for (int i = 0; i < keys.size(); i++) {
                boolean aWon = ca.get(i) instanceof Claim.Acquired;
                boolean bWon = cb.get(i) instanceof Claim.Acquired;
                assertThat(aWon ^ bWon).as("exactly one instance holds " + keys.get(i)).isTrue();
            }
        }
    }

    @Test // forty-fifth round, noticed and left: a claim whose write landed and whose answer was lost (a read timeout)
          // was sent again by the SDK, refused by its own item, and answered InProgress — the event waited out its own
          // claim's lease, and a receive limit's decoding mark dead-lettered its message "not decoded", never handled
    void aClaimWhoseWriteLanded_butWhoseAnswerWasLost_isAcquired_whenTheSdkSendsItAgain() {
        String table = newTable(DynamoDbLedger.Names.defaults());
        String key = "decoding:6:orders:m-1";
        var dropping = new LosingOneAnswer(u -> key.equals(u.key().get("pk").s())); // not the layout stamp's
        try (var losing = dropping.newClient()) {
            var ledger = DynamoDbLedger.of(losing, table);

            var claim = ledger.claim(key, Duration.ofSeconds(30));

            assertThat(claim).as("its own write, found by the call sent again").isInstanceOf(Claim.Acquired.class);
            assertThat(dropping.lost).as("the first answer was lost").isTrue();
            assertThat(dropping.sent).as("sent again by the SDK, the same body (its nonce in it)").hasSize(2)
                    .allMatch(body -> body.equals(dropping.sent.get(0)) && body.contains(RefusedClaim.NONCE));
            var acquired = (Claim.Acquired) claim;
            assertThat(ledger.claim(key, Duration.ofSeconds(30))).as("another claim call: held by the first")
                    .isEqualTo(new Claim.InProgress(key, acquired.leaseUntil()));
            assertThat(DynamoDbLedger.of(client, table).claim(key, Duration.ofSeconds(30)))
                    .as("another instance's").isInstanceOf(Claim.InProgress.class);
            assertThat(ledger.complete(key, acquired.token(), Duration.ofHours(1))).as("the token the item holds")
                    .isTrue();
        }
    }

    @Test // a review: a completion whose write landed and whose answer was lost (a timeout, a 500 after the write) was
          // sent again by the SDK, refused by its own item and answered false: counted as a fence, logged as a claim
          // that expired ("extend the lease"), its effect recorded fenced — every DynamoDB brownout reported false fences
    void aCompletionWhoseWriteLanded_butWhoseAnswerWasLost_isDone_notFenced_whenTheSdkSendsItAgain() {
        String table = newTable(DynamoDbLedger.Names.defaults());
        String key = "charge:orders:m-1";
        var dropping = new LosingOneAnswer(u -> key.equals(u.key().get("pk").s())
                && String.valueOf(u.updateExpression()).startsWith("SET #state = :completed")); // not the claim's
        try (var losing = dropping.newClient()) {
            var ledger = DynamoDbLedger.of(losing, table);
            var claim = (Claim.Acquired) ledger.claim(key, Duration.ofSeconds(30));

            assertThat(ledger.complete(key, claim.token(), Duration.ofHours(1)))
                    .as("its own write, found by the call sent again").isTrue();

            assertThat(dropping.lost).as("the first answer was lost").isTrue();
            assertThat(dropping.sent).as("sent again by the SDK, the same body").hasSize(2)
                    .allMatch(body -> body.equals(dropping.sent.get(0)));
            assertThat(ledger.peek(key)).get().isInstanceOf(Claim.Completed.class);
            assertThat(ledger.complete(key, claim.token(), Duration.ofHours(1)))
                    .as("a second call with the same token: refused, as the contract has it").isFalse();
        }
    }

    @Test // the same review, for a release: answered false, as if another holder had taken the claim meanwhile
    void aReleaseWhoseWriteLanded_butWhoseAnswerWasLost_isDone_notFenced_whenTheSdkSendsItAgain() {
        String table = newTable(DynamoDbLedger.Names.defaults());
        String key = "charge:orders:m-2";
        var dropping = new LosingOneAnswer(u -> key.equals(u.key().get("pk").s())
                && String.valueOf(u.updateExpression()).startsWith("SET #state = :released"));
        try (var losing = dropping.newClient()) {
            var ledger = DynamoDbLedger.of(losing, table);
            var claim = (Claim.Acquired) ledger.claim(key, Duration.ofSeconds(30));

            assertThat(ledger.release(key, claim.token())).as("its own write, found by the call sent again").isTrue();

            assertThat(dropping.lost).as("the first answer was lost").isTrue();
            assertThat(dropping.sent).as("sent again by the SDK, the same body").hasSize(2)
                    .allMatch(body -> body.equals(dropping.sent.get(0)));
            assertThat(ledger.peek(key)).as("released: nobody's").isEmpty();
            assertThat(ledger.release(key, claim.token())).as("a second call with the same token").isFalse();
            assertThat(ledger.claim(key, Duration.ofSeconds(30))).as("claimable at once").isInstanceOf(Claim.Acquired.class);
        }
    }

    @Test // the mend above must not pass a zombie: the key's next holder completed it with its own token
    void aCompletionByAHolderWhoseClaimWasTakenOver_staysFenced_thoughTheKeyIsCompleted() {
        var names = DynamoDbLedger.Names.defaults();
        var clock = new MutableClock(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)); // see LedgerContract
        var ledger = DynamoDbLedger.of(client, newTable(names), names, clock);
        var zombie = (Claim.Acquired) ledger.claim("k", Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(31)); // the zombie's lease ran out, it runs on
        var next = (Claim.Acquired) ledger.claim("k", Duration.ofSeconds(30));
        var completedAt = clock.instant();
        assertThat(ledger.complete("k", next.token(), Duration.ofHours(1))).isTrue();
        clock.advance(Duration.ofSeconds(1));

        assertThat(ledger.complete("k", zombie.token(), Duration.ofHours(1))).as("the zombie's completion").isFalse();
        assertThat(ledger.release("k", zombie.token())).as("the zombie's release").isFalse();
        assertThat(ledger.complete("k", next.token(), Duration.ofHours(1))).as("the next holder's second call").isFalse();
        assertThat(ledger.peek("k")).as("completed once, by the next holder").contains(new Claim.Completed("k", completedAt));
    }

    /**
     * A client on DynamoDB Local that loses its first answer to an UpdateItem {@code dropped} picks once DynamoDB has
     * written it, as a read timeout: the SDK sends the same request again within the call (inside its retries, as a
     * SocketTimeoutException is). Each attempt's body, as sent, is kept in {@link #sent}.
     */
    private static final class LosingOneAnswer implements software.amazon.awssdk.core.interceptor.ExecutionInterceptor {
        final List<String> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.concurrent.atomic.AtomicBoolean lost = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.function.Predicate<software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest> dropped;

        LosingOneAnswer(java.util.function.Predicate<software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest> dropped) {
            this.dropped = dropped;
        }

        DynamoDbClient newClient() {
            return DynamoDbClient.builder().endpointOverride(dynamo.endpoint())
                    .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                    .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                            software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("x", "x")))
                    .overrideConfiguration(o -> o.addExecutionInterceptor(this))
                    .build();
        }

        private boolean picked(software.amazon.awssdk.core.interceptor.Context.BeforeExecution context) {
            return context.request() instanceof software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest u
                    && dropped.test(u);
        }

        @Override // each attempt, its body as sent
        public void beforeTransmission(software.amazon.awssdk.core.interceptor.Context.BeforeTransmission context,
                                       software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
            if (picked(context)) {
                try (var body = context.requestBody().orElseThrow().contentStreamProvider().newStream()) {
                    sent.add(new String(body.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }

        @Override // each attempt, once DynamoDB has answered (the write landed): the first answer dropped
        public void afterTransmission(software.amazon.awssdk.core.interceptor.Context.AfterTransmission context,
                                      software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
            if (picked(context) && lost.compareAndSet(false, true)) {
                context.responseBody().ifPresent(answer -> {
                    try {
                        answer.close();
                    } catch (java.io.IOException ignored) {
                        // dropped all the same
                    }
                });
                throw software.amazon.awssdk.core.exception.SdkClientException.create(
                        "Unable to execute HTTP request: Read timed out (injected)",
                        new java.net.SocketTimeoutException("Read timed out"));
            }
        }
    }

    @Test
    void commandLine_createsTheTable_andRefusesBadArguments() {
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        // the tool uses the default credential chain; its first link is the system properties, so
        // nothing goes looking for an instance profile (no traffic off 127.0.0.1)
        System.setProperty("aws.accessKeyId", "x");
        System.setProperty("aws.secretAccessKey", "x");
        System.setProperty("aws.region", "eu-west-1"); // a review: us-east-1 whatever the chain said, the region unsaid
        int code;
        try {
            code = DynamoDbLedgerTables.run(new String[] {"create-table", "--table", "from-cli", "--endpoint",
                    dynamo.endpoint().toString(), "--ttl", "gone"}, new java.io.PrintStream(out), new java.io.PrintStream(err));
        } finally {
            System.clearProperty("aws.accessKeyId");
            System.clearProperty("aws.secretAccessKey");
            System.clearProperty("aws.region");
        }
        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString()).contains("table 'from-cli' is ready in eu-west-1").contains("TTL on 'gone'");
        assertThat(client.describeTimeToLive(b -> b.tableName("from-cli")).timeToLiveDescription().attributeName())
                .isEqualTo("gone");

        assertThat(DynamoDbLedgerTables.run(new String[] {"create-table", "--tabel", "x"}, new java.io.PrintStream(out),
                new java.io.PrintStream(err))).isEqualTo(2);
        assertThat(err.toString()).contains("--table is required");
    }

    @Test // a review: on a table there with TTL off, UpdateTimeToLive refused (a role without it), the command said
          // "TTL on 'expiresAt'" and exited 0 — a provisioning script took it for done, and nothing in it ever expired
    void commandLine_onATableWhoseTtlCannotBeTurnedOn_saysSo_andFails() {
        String table = tableKeyedAsTheLedgerReads(); // there, TTL off
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        int code;
        try (var refusing = dynamo.refusing("UpdateTimeToLive")) {
            code = commandLine(out, err, "create-table", "--table", table,
                    "--endpoint", refusing.endpoint().toString());
        }
        assertThat(code).as(out + " " + err).isEqualTo(1);
        assertThat(out.toString()).doesNotContain("TTL on");
        assertThat(err.toString()).contains("'" + table + "' is there").contains("TTL could not be turned on")
                .contains("dynamodb:UpdateTimeToLive").contains("turn it on by hand for attribute 'expiresAt'");
        assertThat(client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription().timeToLiveStatus())
                .isEqualTo(TimeToLiveStatus.DISABLED);
    }

    @Test // the same review: TTL on another attribute than the ledger's was warned of, and the command said it was on
    void commandLine_onATableWithTtlOnAnotherAttribute_saysSo_andFails() {
        String table = tableKeyedAsTheLedgerReads();
        client.updateTimeToLive(b -> b.tableName(table)
                .timeToLiveSpecification(t -> t.attributeName("deleteAt").enabled(true)));
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();

        int code = commandLine(out, err, "create-table", "--table", table, "--endpoint", dynamo.endpoint().toString());

        assertThat(code).as(out + " " + err).isEqualTo(1);
        assertThat(out.toString()).doesNotContain("TTL on");
        assertThat(err.toString()).contains("TTL is on 'deleteAt', not on 'expiresAt'");
    }

    @Test // the same review, for `ferry ledger create-table` (a provisioning command): it fails, saying so; a run
          // goes on, warned, as before
    void provisioningATableWhoseTtlCannotBeTurnedOn_failsSayingSo_aRunGoesOnWarned() {
        String table = tableKeyedAsTheLedgerReads(); // there, TTL off
        var refused = intercepting((method, args) -> {
            if (method.getName().equals("updateTimeToLive")) {
                throw software.amazon.awssdk.services.dynamodb.model.DynamoDbException.builder()
                        .message("User is not authorized to perform: dynamodb:UpdateTimeToLive (injected)")
                        .statusCode(400)
                        .awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder()
                                .errorCode("AccessDeniedException").build()).build();
            }
        });

        assertThatThrownBy(() -> DynamoDbModule.prepare(refused, table, true, run(true)))
                .isInstanceOf(FerryException.class)
                .hasMessageContaining("'" + table + "'").hasMessageContaining("TTL could not be turned on")
                .hasMessageContaining("turn it on by hand for attribute 'expiresAt'");
        assertThat(DynamoDbModule.prepare(refused, table, true, run(false))).as("a run: warned, nothing owed")
                .isFalse();
        assertThat(DynamoDbModule.prepare(client, table, true, run(true))).as("allowed: turned on, done").isFalse();
        assertThat(client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription().attributeName())
                .isEqualTo(DynamoDbLedger.Names.defaults().ttl());
    }

    @Test // a review: two instances turning TTL on at once (a deploy's create-table beside a run's start): the second's
          // UpdateTimeToLive refused in words without "already enabled" was taken for TTL off, and the command exited 1
          // saying it could not be turned on — while it was on its way on the ledger's attribute
    void aTableThatExists_whoseTtlAnotherInstanceTurnsOnMeanwhile_isOn_notFailed() {
        var names = DynamoDbLedger.Names.defaults();
        var racing = intercepting((method, args) -> {
            if (method.getName().equals("updateTimeToLive")) {
                method.invoke(client, args); // the other instance, first
                throw software.amazon.awssdk.services.dynamodb.model.DynamoDbException.builder()
                        .message("Time to live has been modified multiple times within a fixed interval (injected)")
                        .statusCode(400)
                        .awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder()
                                .errorCode("ValidationException").build()).build();
            }
        });

        String table = tableKeyedAsTheLedgerReads(); // there, TTL off
        var turnedOn = LedgerTables.create(racing, table, names);
        assertThat(turnedOn.on()).as("said: %s", turnedOn.why()).isTrue();
        String provisioned = tableKeyedAsTheLedgerReads();
        assertThat(DynamoDbModule.prepare(racing, provisioned, true, run(true))).as("ferry ledger create-table: done")
                .isFalse();
        for (var each : List.of(table, provisioned)) {
            var ttl = client.describeTimeToLive(b -> b.tableName(each)).timeToLiveDescription();
            assertThat(ttl.timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
            assertThat(ttl.attributeName()).isEqualTo(names.ttl());
        }
    }

    @Test // a review: an embedder's createTable on a table with TTL on another attribute only logged a warning, while
          // its javadoc said it turns TTL on — provisioning code went on, and nothing the ledger wrote ever expired
    void createTable_onATableWithTtlOnAnotherAttribute_throwsNamingIt_aRunOnlyWarns() {
        String table = tableKeyedAsTheLedgerReads();
        client.updateTimeToLive(b -> b.tableName(table)
                .timeToLiveSpecification(t -> t.attributeName("deleteAt").enabled(true)));

        assertThatThrownBy(() -> DynamoDbLedger.createTable(client, table, DynamoDbLedger.Names.defaults()))
                .isInstanceOf(FerryException.class)
                .hasMessageContaining("'" + table + "'")
                .hasMessageContaining("TTL is on 'deleteAt', not on 'expiresAt'")
                .hasMessageContaining("turn it on for 'expiresAt'")
                .satisfies(e -> assertThat(((FerryException) e).retryable()).isFalse());
        assertThat(DynamoDbModule.prepare(client, table, true, run(false))).as("a run: warned, nothing owed")
                .isFalse();
        assertThat(client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription().attributeName())
                .as("left as it is").isEqualTo("deleteAt");
    }

    @Test // a review: a role with CreateTable and DescribeTable but neither TTL action, on a table Terraform made with
          // TTL on: TTL it could not ask about nor turn on was taken for off, and every start calling createTable failed
          // "nothing the ledger writes would expire" — TTL on all along
    void createTable_whoseTtlCanBeNeitherAskedAboutNorTurnedOn_onATableWithItOn_warnsNamingWhatToCheck_notThrows() {
        var names = DynamoDbLedger.Names.defaults();
        String table = tableKeyedAsTheLedgerReads();
        client.updateTimeToLive(b -> b.tableName(table)
                .timeToLiveSpecification(t -> t.attributeName(names.ttl()).enabled(true)));
        var noTtlActions = intercepting((method, args) -> {
            if (method.getName().equals("describeTimeToLive") || method.getName().equals("updateTimeToLive")) {
                throw software.amazon.awssdk.services.dynamodb.model.DynamoDbException.builder()
                        .message("User is not authorized to perform: dynamodb:" + method.getName() + " (injected)")
                        .statusCode(400)
                        .awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder()
                                .errorCode("AccessDeniedException").build()).build();
            }
        });
        try (var warnings = LedgerWarnings.collected()) {
            DynamoDbLedger.createTable(noTtlActions, table, names);

            assertThat(warnings.lines()).as("warned: what could not be checked, what to check by hand").anyMatch(line ->
                    line.contains("'" + table + "'") && line.contains("nor could it be asked about")
                            && line.contains("Check by hand that TTL is on for attribute 'expiresAt'"));
            assertThat(DynamoDbModule.prepare(noTtlActions, table, true, run(true)))
                    .as("ferry ledger create-table: warned, done").isFalse();
        }
        var ttl = client.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription();
        assertThat(ttl.attributeName()).as("left as it is").isEqualTo(names.ttl());
        assertThat(ttl.timeToLiveStatus()).isIn(TimeToLiveStatus.ENABLED, TimeToLiveStatus.ENABLING);
    }

    /** {@link DynamoDbLedgerTables#run}, its credentials and region from system properties, as the test above. */
    private static int commandLine(java.io.ByteArrayOutputStream out, java.io.ByteArrayOutputStream err,
                                   String... args) {
        System.setProperty("aws.accessKeyId", "x");
        System.setProperty("aws.secretAccessKey", "x");
        System.setProperty("aws.region", "eu-west-1");
        try {
            return DynamoDbLedgerTables.run(args, new java.io.PrintStream(out), new java.io.PrintStream(err));
        } finally {
            System.clearProperty("aws.accessKeyId");
            System.clearProperty("aws.secretAccessKey");
            System.clearProperty("aws.region");
        }
    }

    @Test
    void theFirstClaim_stampsTheTablesLayout_andATableOfALaterLayoutIsRefusedAsALedgerThatIsDown() {
        var names = DynamoDbLedger.Names.defaults();
        String table = newTable(names);
        var ledger = DynamoDbLedger.of(client, table);
        assertThat(ledger.claim("e:1:s:k-1", Duration.ofSeconds(30))).isInstanceOf(Claim.Acquired.class);
        var stamp = client.getItem(b -> b.tableName(table).key(Map.of("pk", AttributeValue.fromS(DynamoDbLayout.KEY)))
                .consistentRead(true)).item();
        assertThat(stamp.get(DynamoDbLayout.ATTRIBUTE).n()).isEqualTo(String.valueOf(DynamoDbLayout.LAYOUT));
        assertThat(stamp).as("the stamp never expires").doesNotContainKey(names.ttl());

        // a later Ferry stamps a later layout; this version, rolled back to, must not read its items as its own
        client.putItem(b -> b.tableName(table).item(Map.of("pk", AttributeValue.fromS(DynamoDbLayout.KEY),
                DynamoDbLayout.ATTRIBUTE, AttributeValue.fromN("2"))));
        var rolledBack = DynamoDbLedger.of(client, table);
        assertThatThrownBy(() -> rolledBack.claim("e:1:s:k-2", Duration.ofSeconds(30))).isInstanceOf(FerryException.class)
                .hasMessageContaining("has layout 2, written by a later Ferry").hasMessageContaining("reads layout 1")
                .satisfies(e -> assertThat(((FerryException) e).retryable()).as("held as a ledger down, never dead-lettered")
                        .isTrue());
        assertThatThrownBy(() -> rolledBack.claimAll(List.of("e:1:s:k-2", "e:1:s:k-3"), Duration.ofSeconds(30)))
                .isInstanceOf(FerryException.class).hasMessageContaining("has layout 2");
        // what is read before a claim (a parked group looked up, a completion peeked at the receive limit) is refused too
        assertThatThrownBy(() -> rolledBack.peek("e:1:s:k-1")).hasMessageContaining("has layout 2");
        assertThatThrownBy(() -> rolledBack.parkedGroup("s", "g")).hasMessageContaining("has layout 2");
        assertThat(client.getItem(b -> b.tableName(table).key(Map.of("pk", AttributeValue.fromS("e:1:s:k-2")))
                .consistentRead(true)).item()).as("nothing claimed").isNullOrEmpty();
        assertThat(ledger.claim("e:1:s:k-4", Duration.ofSeconds(30))).as("checked once per ledger").isInstanceOf(Claim.Acquired.class);
    }

    @Test
    void missingTable_failsWithItsName() {
        var ledger = DynamoDbLedger.of(client, "no-such-table");
        assertThatThrownBy(() -> ledger.claim("k", Duration.ofSeconds(1)))
                .isInstanceOf(FerryException.class).hasMessageContaining("no-such-table");
    }

    @Test
    void aDynamoDbThatStallsWithoutAnswering_failsTheClaimWithinTheTimeout_notAfterMinutes() throws Exception {
        // a connection that accepts and never answers held the worker (and its group) for the HTTP client's read
        // timeout on every attempt: the module's client bounds each call
        try (var silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             var stalled = DynamoDbModule.bounded(software.amazon.awssdk.services.dynamodb.DynamoDbClient.builder(),
                             Duration.ofSeconds(1))
                     .endpointOverride(java.net.URI.create("http://127.0.0.1:" + silent.getLocalPort()))
                     .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                     .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                             software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("local", "local")))
                     .build()) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> DynamoDbLedger.of(stalled, "never-answers").claim("k", Duration.ofSeconds(30)))
                    .isInstanceOf(FerryException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    /** The app's client (timeout: 10s) on a server that takes connections and never answers. */
    private static DynamoDbClient appsClientOf(java.net.ServerSocket silent) {
        return DynamoDbModule.bounded(DynamoDbClient.builder(), DynamoDbModule.DEFAULT_TIMEOUT)
                .endpointOverride(java.net.URI.create("http://127.0.0.1:" + silent.getLocalPort()))
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("local", "local")))
                .build();
    }

    @Test // a review: an embedder's own client (no call timeout) held a claim extension minutes on a silent connection,
          // past the claim's lease, and a copy of the event could run beside its handler
    void anEmbeddersClientWithoutTimeouts_hasEachLedgerCallBounded() throws Exception {
        try (var silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             var unbounded = software.amazon.awssdk.services.dynamodb.DynamoDbClient.builder() // as DynamoDbClient.create()
                     .endpointOverride(java.net.URI.create("http://127.0.0.1:" + silent.getLocalPort()))
                     .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                     .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                             software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("local", "local")))
                     .build()) {
            var ledger = DynamoDbLedger.of(unbounded, "never-answers");
            var extension = java.util.concurrent.CompletableFuture.runAsync(
                    () -> ledger.extend("k", 1L, Duration.ofSeconds(30)), java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            // the SDK's own: 30 s of read timeout on each of its attempts; bounded per call, it fails within its 10 s
            assertThatThrownBy(() -> extension.get(25, java.util.concurrent.TimeUnit.SECONDS))
                    .as("failed within its bound, not still waiting")
                    .isInstanceOf(java.util.concurrent.ExecutionException.class).hasCauseInstanceOf(FerryException.class);
        }
    }

    @Test // a review: the app's client bounds each call at its timeout (10 s), and the keeper extends a claim with
          // half its lease left: an extension of a 10 s lease on a silent connection failed after the claim ran out,
          // another instance claimed the key meanwhile and ran the event beside its handler
    void aClaimExtensionOnASilentConnection_failsWithinAQuarterOfTheLease_notTheCallsTimeout() throws Exception {
        try (var silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             var stalled = appsClientOf(silent); // the app's, timeout: 10s
             var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var ledger = DynamoDbLedger.of(stalled, "never-answers");
            var extension = java.util.concurrent.CompletableFuture.runAsync(
                    () -> ledger.extend("k", 1L, Duration.ofSeconds(4)), threads);
            // bounded at a quarter of the lease asked for (1 s), not the call's 10 s: it fails while the claim holds
            assertThatThrownBy(() -> extension.get(3500, java.util.concurrent.TimeUnit.MILLISECONDS))
                    .as("failed within a quarter of the lease, not still waiting for the call's timeout")
                    .isInstanceOf(java.util.concurrent.ExecutionException.class)
                    .cause().isInstanceOfSatisfying(FerryException.class,
                            e -> assertThat(e.retryable()).as("asked again at the keeper's next round").isTrue());
        }
    }

    @Test // a second look: bounded at half the lease, an extension on a silent connection, asked with half the lease
          // left (extend-every's default), failed as the claim ran out — the keeper's next ask found it gone, and another
          // instance could claim the key and run the event beside its handler
    void aClaimExtensionOnASilentConnection_asTheKeeperAsksIt_failsWhileTheClaimHolds_soTheNextAskKeepsIt()
            throws Exception {
        var lease = Duration.ofSeconds(10);
        // asked as the keeper asks it, with half the lease left
        failsOnASilentConnection_thenFindsTheClaimHeld("k-kept", lease, lease.dividedBy(2).toMillis() + 50,
                (stalled, token) -> stalled.extend("k-kept", token, lease), lease);
    }

    @Test // a review of the bound above: asked again after a failure, for what is left of the transport's lease — more
          // than is left of the claim — a quarter of it outlasted the claim on a silent connection; the next ask was
          // refused, the claim lost. Bounded by the time the listener gives it (half of what is left of the claim)
    void aClaimExtensionAskedLateInTheClaim_onASilentConnection_failsWithinTheTimeGiven_soTheNextAskKeepsIt()
            throws Exception {
        // 4 s of the claim left; asked for 20 s (a quarter: 5 s, past the claim's end), of use within 1 s
        failsOnASilentConnection_thenFindsTheClaimHeld("k-late", Duration.ofSeconds(10), 6_000,
                (stalled, token) -> stalled.extend("k-late", token, Duration.ofSeconds(20), Duration.ofSeconds(1)),
                Duration.ofSeconds(20));
    }

    /** An extension of a claim, asked of a ledger on a silent connection. */
    private interface SilentAsk {
        boolean extend(DynamoDbLedger stalled, long token);
    }

    /**
     * A claim of {@code lease} on {@code key}; {@code intoClaimMillis} after it was taken, {@code ask} on a silent
     * connection fails, and the next ask, on a connection that answers, finds the claim still held.
     */
    private void failsOnASilentConnection_thenFindsTheClaimHeld(String key, Duration lease, long intoClaimMillis,
            SilentAsk ask, Duration nextLease) throws Exception {
        String table = newTable(DynamoDbLedger.Names.defaults());
        var held = (Claim.Acquired) DynamoDbLedger.of(client, table).claim(key, lease);
        long claimed = System.nanoTime();
        try (var silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             var stalled = appsClientOf(silent)) {
            Thread.sleep(Math.max(0, intoClaimMillis - (System.nanoTime() - claimed) / 1_000_000));
            assertThatThrownBy(() -> ask.extend(DynamoDbLedger.of(stalled, table), held.token()))
                    .isInstanceOf(FerryException.class);
            assertThat(DynamoDbLedger.of(client, table).extend(key, held.token(), nextLease))
                    .as("kept: the silent call failed before the claim ran out").isTrue();
        }
    }

    @Test // a review of the bound above: cut at half of it per attempt, and at 1 s for the readiness probe's extension of
          // a 1 ms lease, a slow but healthy DynamoDB (a far region: a new connection takes some hundreds of ms) failed
          // every extension, and the probe never found the ledger answering again
    void aSlowButHealthyDynamoDb_extendsAClaimWithinAQuarterOfItsLease_andAnswersTheReadinessProbe() {
        var names = DynamoDbLedger.Names.defaults();
        String table = newTable(names);
        var held = (Claim.Acquired) DynamoDbLedger.of(client, table).claim("k-slow", Duration.ofSeconds(30));
        try (var slow = dynamo.slowing("UpdateItem", Duration.ofMillis(1_300));
             var slowClient = DynamoDbModule.bounded(DynamoDbClient.builder(), DynamoDbModule.DEFAULT_TIMEOUT)
                     .endpointOverride(slow.endpoint())
                     .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                     .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                             software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("x", "x")))
                     .build()) {
            var ledger = DynamoDbLedger.of(slowClient, table);
            assertThat(ledger.extend("k-slow", held.token(), Duration.ofSeconds(8)))
                    .as("1.3 s within the 2 s quarter of its lease: one attempt has it all").isTrue();
            assertThat(ledger.extend("p:ferry-readiness-probe", 0, Duration.ofMillis(1)))
                    .as("the probe's extension of a key nobody holds: answered, with the call's bound").isFalse();
        }
    }

    @Test
    void aClaimWon_whileItsClockWarningsLogThrows_isWon() {
        // the warning of a skewed clock is written inside the claim: a log handler that threw there made the claim that
        // DynamoDB applied a failure, its key held by no one for a whole lease
        var names = DynamoDbLedger.Names.defaults();
        String table = newTable(names);
        try (var warnings = LedgerWarnings.throwingOnEach()) {
            var ahead = DynamoDbLedger.of(client, table, names,
                    java.time.Clock.offset(java.time.Clock.systemUTC(), Duration.ofSeconds(20)));
            assertThat(ahead.claim("k-ahead", Duration.ofSeconds(30)))
                    .isInstanceOf(dev.ferry.domain.idempotency.Claim.Acquired.class);
            assertThat(warnings.lines()).as("the warning was written, and its handler threw").isNotEmpty();
        }
    }

    @Test // claims are timed by each instance's clock: one that runs ahead takes the others' claims early
    void aClockAheadOfDynamoDbs_isMeasuredAndLogged_aSynchronizedOneIsNot() {
        var names = DynamoDbLedger.Names.defaults();
        String table = newTable(names);
        try (var warnings = LedgerWarnings.collected()) {
            var synced = DynamoDbLedger.of(client, table, names, java.time.Clock.systemUTC());
            assertThat(synced.clockSkew()).as("before the first claim").isNull();
            synced.claim("k-synced", Duration.ofSeconds(30));
            assertThat(synced.clockSkew()).as("the same machine's clock: within the header's second")
                    .isBetween(Duration.ofSeconds(-1), Duration.ofSeconds(1));
            assertThat(warnings.lines()).noneMatch(line -> line.contains("clock"));

            var ahead = DynamoDbLedger.of(client, table, names,
                    java.time.Clock.offset(java.time.Clock.systemUTC(), Duration.ofSeconds(20)));
            ahead.claim("k-ahead", Duration.ofSeconds(30));
            assertThat(ahead.clockSkew()).as("DynamoDB 20 s behind this instance's clock")
                    .isBetween(Duration.ofSeconds(-21), Duration.ofSeconds(-18));
            assertThat(warnings.lines()).anyMatch(line -> line.contains("s ahead of DynamoDB's") && line.contains(table)
                    && line.contains("run twice"));
        }
    }

    /** The ledger's JUL warnings, their text collected until closed; the tests' root level is SEVERE. */
    private static final class LedgerWarnings implements AutoCloseable {
        private final java.util.logging.Logger jul = java.util.logging.Logger.getLogger(DynamoDbLedger.class.getName());
        private final java.util.logging.Level level = jul.getLevel();
        private final List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final java.util.logging.Handler handler;

        private LedgerWarnings(boolean throwing) {
            handler = new java.util.logging.Handler() {
                @Override
                public void publish(java.util.logging.LogRecord r) {
                    lines.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
                    if (throwing) {
                        throw new IllegalStateException("a log handler's bug (injected)");
                    }
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            };
            jul.setLevel(java.util.logging.Level.WARNING);
            jul.addHandler(handler);
        }

        static LedgerWarnings collected() {
            return new LedgerWarnings(false);
        }

        /** A log handler with a bug: each warning is collected, then its handler throws. */
        static LedgerWarnings throwingOnEach() {
            return new LedgerWarnings(true);
        }

        List<String> lines() {
            return lines;
        }

        @Override
        public void close() {
            jul.removeHandler(handler);
            jul.setLevel(level);
        }
    }
}
