package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.adapters.http.HttpSinkConfig;
import dev.ferry.adapters.http.HttpSourceConfig;
import dev.ferry.adapters.http.IngestAuth;
import dev.ferry.adapters.kafka.KafkaSinkConfig;
import dev.ferry.adapters.kafka.KafkaSourceConfig;
import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.adapters.sqs.SqsSinkConfig;
import dev.ferry.adapters.sqs.SqsSourceConfig;
import dev.ferry.app.config.ConfigError;
import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;

class ConfigReaderTest {

    static final Adapters ADAPTERS = FerryComponent.builtIn().adapters();

    static ConfigReader.Result parse(String yaml) {
        return ConfigReader.parse("ferry.yaml", yaml, Map.of("HOME_DIR", "/srv")::get, ADAPTERS);
    }

    static FerryConfig read(String example, Map<String, String> env) {
        var result = ConfigReader.read(Path.of("../examples/" + example), env::get, ADAPTERS);
        assertThat(result).as(example + ": " + result).isInstanceOf(ConfigReader.Result.Ok.class);
        return ((ConfigReader.Result.Ok) result).config();
    }

    static List<String> errors(String yaml) {
        var result = parse(yaml);
        assertThat(result).isInstanceOf(ConfigReader.Result.Invalid.class);
        return ((ConfigReader.Result.Invalid) result).errors().stream().map(ConfigError::toString).toList();
    }

    @Test // a review: a Kafka sink's zero timeout passed `ferry validate` and failed only at `ferry run`, as the HTTP sink's did
    void aKafkaSinksTimeoutOfZero_isAConfigProblem() {
        assertThat(errors("sources: {s: {sqs: {queue: q}}}\nsinks: {k: {type: kafka, bootstrap-servers: \"127.0.0.1:9092\", "
                + "topic: t, timeout: 0s}}\nroutes: [{to: [k]}]\n"))
                .anySatisfy(e -> assertThat(e).contains("sinks.k.timeout").contains("must be more than 0"));
        assertThat(errors("sources: {s: {sqs: {queue: q}}}\nsinks: {k: {type: kafka, bootstrap-servers: \"127.0.0.1:9092\", "
                + "topic: t, timeout: 1s, properties: {linger.ms: \"1000\"}}}\nroutes: [{to: [k]}]\n"))
                .as("within its linger: refused by the producer as the run opened it")
                .anySatisfy(e -> assertThat(e).contains("sinks.k.timeout").contains("linger.ms"));
        assertThat(errors("sources: {s: {sqs: {queue: q}}}\nsinks: {k: {type: kafka, bootstrap-servers: \"127.0.0.1:9092\", "
                + "topic: t, properties: {request.timeout.ms: \"30000\"}}}\nroutes: [{to: [k]}]\n"))
                .as("the default 30 s, under linger.ms + request.timeout.ms given")
                .anySatisfy(e -> assertThat(e).contains("sinks.k.timeout").contains("request.timeout.ms"));
    }

    @Test // a review of the check above: a delivery.timeout.ms in properties replaces the sink's timeout, and was not read
    void aKafkaSinksDeliveryTimeoutInProperties_isTheOneChecked() {
        String sink = "sources: {s: {sqs: {queue: q}}}\nsinks: {k: {type: kafka, bootstrap-servers: \"127.0.0.1:9092\", "
                + "topic: t, properties: {%s}}}\nroutes: [{to: [k]}]\n";
        // Kafka's own defaults, copied in: refused as "timeout (30 s) under 30001 ms", though the producer takes them
        assertThat(parse(sink.formatted("request.timeout.ms: \"30000\", delivery.timeout.ms: \"120000\"")))
                .as("what the producer takes").isInstanceOf(ConfigReader.Result.Ok.class);
        // passed as "timeout 30 s >= 10001 ms", then refused by the producer as the run opened the sink
        assertThat(errors(sink.formatted("delivery.timeout.ms: \"5000\", request.timeout.ms: \"10000\"")))
                .anySatisfy(e -> assertThat(e).contains("sinks.k.properties").contains("delivery.timeout.ms")
                        .contains("10001 ms").contains("was 5000 ms"));
    }

    @Test
    void theLocalExample_isValid() {
        FerryConfig config = read("local.yaml", Map.of());
        assertThat(config.embeddedSqsPort()).isEqualTo(9324);
        assertThat(config.aws().endpoint()).hasToString("http://127.0.0.1:9324");
        assertThat(config.ledger().kind()).isEqualTo("mvstore");
        assertThat(config.sources().get("mturk").plan()).isInstanceOfSatisfying(SqsSourceConfig.class,
                sqs -> assertThat(sqs.queue()).isEqualTo("mturk-events"));
        assertThat(config.routes()).extracting(FerryConfig.RouteSpec::type).containsExactly("AssignmentSubmitted", null);
        assertThat(config.listener().lease()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.listener().extendEvery()).isEqualTo(Duration.ofSeconds(15));
        assertThat(config.metrics()).hasToString("127.0.0.1:9464");
        assertThat(config.admin().listen()).as("health where the metrics are").isEqualTo(config.metrics());
        assertThat(config.admin().stallAfter()).isEqualTo(Duration.ofMinutes(30));
        assertThat(config.logging()).isEqualTo(dev.ferry.app.logging.FerryLogging.Settings.DEFAULT);
    }

    @Test
    void aMalformedFerryAdminListen_isAConfigErrorNamingIt_notACrash_andOffTurnsTheAdminAddressOff() {
        var tail = "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";
        for (String bad : new String[] {"9465", "0.0.0.0:99999", "localhost:", ":9465x"}) {
            var result = ConfigReader.parse("ferry.yaml", tail, Map.of("FERRY_ADMIN_LISTEN", bad)::get, ADAPTERS);
            assertThat(result).as(bad).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class, invalid ->
                    assertThat(invalid.errors().toString()).contains("FERRY_ADMIN_LISTEN").contains(bad));
        }
        var off = ConfigReader.parse("ferry.yaml", tail, Map.of("FERRY_ADMIN_LISTEN", "off")::get, ADAPTERS);
        assertThat(((ConfigReader.Result.Ok) off).config().admin().listen()).isNull();
        var set = ConfigReader.parse("ferry.yaml", tail, Map.of("FERRY_ADMIN_LISTEN", " 0.0.0.0:9465 ")::get, ADAPTERS);
        assertThat(((ConfigReader.Result.Ok) set).config().admin().listen()).hasToString("0.0.0.0:9465");
        assertThat(errors(tail + "admin: {listen: 'nope'}\n")).singleElement().asString().contains("expected HOST:PORT");
    }

    @Test
    void yamlNestedThousandsDeep_andAnAdapterThatThrowsAnError_areErrorsOfTheFile_notCrashes() {
        var deep = parse("sources: " + "[".repeat(50_000) + "]".repeat(50_000) + "\n");
        assertThat(deep).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class,
                invalid -> assertThat(invalid.errors().toString()).contains("nested too deeply"));

        var broken = new Adapters(ADAPTERS.sources(), java.util.Map.of("broken", settings -> {
            throw new NoClassDefFoundError("com/example/Missing");
        }), ADAPTERS.ledgers());
        var result = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: q}}}\nsinks: {b: {type: broken}}\n"
                + "routes:\n  - to: [b]\n", Map.<String, String>of()::get, broken);
        assertThat(result).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class, invalid -> assertThat(
                invalid.errors().toString()).contains("could not read its settings").contains("com/example/Missing"));
    }

    @Test // a review: a plugin that read 'a', then threw, had its other (valid) keys reported unknown beside its own error:
          // the user was sent to delete settings that were right
    void aPluginThatThrowsReadingItsSettings_isTheOneError_itsOtherKeysNotCalledUnknown() {
        var throwing = new Adapters(ADAPTERS.sources(), java.util.Map.of("p", settings -> {
            settings.string("a", null);
            throw new IllegalArgumentException("a is not to my liking");
        }), ADAPTERS.ledgers());
        var result = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: q}}}\nsinks: {x: {type: p, a: 1, b: 2}}\n"
                + "routes:\n  - to: [x]\n", Map.<String, String>of()::get, throwing);
        assertThat(result).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class, invalid -> {
            assertThat(invalid.errors().toString()).contains("a is not to my liking");
            assertThat(invalid.errors()).as("b is the plugin's to judge").noneSatisfy(e -> assertThat(e.toString()).contains("x.b"));
        });
    }

    @Test // a review: hostPort(key, null) of a key left out threw inside the app (the test kit's MapSettings answered null),
          // and every file without the key was refused for a NullPointerException blamed on the plugin
    void aPluginsOptionalAddressLeftOut_isNull_notAFailureOfThePlugin() {
        var seen = new java.util.concurrent.atomic.AtomicReference<Object>("not asked");
        var optional = new Adapters(ADAPTERS.sources(), java.util.Map.of("p", settings -> {
            seen.set(settings.hostPort("listen", null));
            return ADAPTERS.sinks().get("log").configure(settings);
        }), ADAPTERS.ledgers());
        var result = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: q}}}\nsinks: {x: {type: p}}\n"
                + "routes:\n  - to: [x]\n", Map.<String, String>of()::get, optional);
        assertThat(result).as(result.toString()).isInstanceOf(ConfigReader.Result.Ok.class);
        assertThat(seen.get()).isNull();

        var malformed = ConfigReader.parse("ferry.yaml", "sources: {s: {sqs: {queue: q}}}\nsinks: {x: {type: p, listen: nohost}}\n"
                + "routes:\n  - to: [x]\n", Map.<String, String>of()::get, optional);
        assertThat(malformed).isInstanceOfSatisfying(ConfigReader.Result.Invalid.class, invalid -> assertThat(
                invalid.errors().toString()).contains("HOST:PORT").doesNotContain("such as null"));
    }

    @Test
    void aPluginJarThatCannotBeLoaded_isRefusedWithWhereAndWhy(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        var jar = dir.resolve("broken-plugin.jar");
        try (var out = new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(jar))) {
            out.putNextEntry(new java.util.jar.JarEntry("META-INF/services/dev.ferry.domain.spi.FerryPlugin"));
            out.write("com.example.NotThere\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.closeEntry();
        }
        assertThatThrownBy(() -> new Plugins(dir).load()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("a plugin could not be loaded").hasMessageContaining(dir.toString())
                .hasMessageContaining("com.example.NotThere");
    }

    @Test
    void aKeyGivenTwiceInANameValueMap_isAnError_notQuietlyTheLastOne() {
        var tail = "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\n";
        assertThat(errors(tail + "routes:\n  - to: [log]\n    match: {attributes: {env: prod, env: dev}}\n"))
                .singleElement().asString().contains("duplicate key").contains("env");
    }

    @Test
    void twoSourcesOnOneSqsQueue_areRefused() {
        var tail = "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";
        assertThat(errors("sources:\n  a: {sqs: {queue: orders}}\n  b: {sqs: {queue: "
                + "'https://sqs.us-east-1.amazonaws.com/123456789012/orders'}}\n" + tail))
                .singleElement().asString().contains("source 'a' reads queue orders already");
        assertThat(parse("sources:\n  a: {sqs: {queue: orders}}\n  b: {sqs: {queue: refunds}}\n" + tail))
                .isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void durations_compound_andIso8601_areRead_mixedUpOnesAreNot() {
        assertThat(ConfigReader.parseDuration("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(ConfigReader.parseDuration("1h5m")).isEqualTo(Duration.ofMinutes(65));
        assertThat(ConfigReader.parseDuration("2d12h")).isEqualTo(Duration.ofHours(60));
        assertThat(ConfigReader.parseDuration("1s500ms")).isEqualTo(Duration.ofMillis(1500));
        assertThat(ConfigReader.parseDuration("PT1M30S")).isEqualTo(Duration.ofSeconds(90));
        assertThat(ConfigReader.parseDuration("p7d")).isEqualTo(Duration.ofDays(7));
        assertThat(ConfigReader.parseDuration(" 30s ")).isEqualTo(Duration.ofSeconds(30));
        for (String bad : new String[] {"30s1m", "5m5m", "1.5s", "30", "-5s", "PT-5S", "P", "", "99999999999999999999d"}) {
            assertThat(ConfigReader.parseDuration(bad)).as(bad).isNull();
        }
    }

    @Test
    void statsEvery_canBeOff_andNeverZeroToSpin() {
        var tail = "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";
        for (String off : new String[] {"off", "0s", "0"}) {
            var config = ((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", "stats-every: " + off + "\n" + tail, k -> null,
                    ADAPTERS)).config();
            assertThat(config.statsEvery()).as(off).isZero();
        }
        assertThat(errors("stats-every: 500ms\n" + tail)).containsExactly("ferry.yaml:1: stats-every: must be at least 1s, or off; was 500ms");
        assertThat(((ConfigReader.Result.Ok) parse("stats-every: 1m30s\n" + tail)).config().statsEvery()).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void aRunsPollers_areEverySourcesTogether() {
        var config = ((ConfigReader.Result.Ok) parse("listener: {pollers: 3}\nsources: {a: {sqs: {queue: a}}, b: {sqs: {queue: b}}}\n"
                + "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n")).config();
        try (var context = new RunContext(config, false)) {
            assertThat(context.pollersInRun()).isEqualTo(6);
        }
    }

    @Test
    void region_isLeftToTheSdksChain_whenTheFileSetsNone() {
        var tail = "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";
        assertThat(((ConfigReader.Result.Ok) parse(tail)).config().aws().region()).isNull();
        assertThat(((ConfigReader.Result.Ok) parse("aws: {region: eu-west-1}\n" + tail)).config().aws().region()).isEqualTo("eu-west-1");
        var config = ((ConfigReader.Result.Ok) parse("aws: {endpoint: \"https://sqs.example.invalid\"}\n" + tail)).config();
        System.setProperty("aws.region", "ap-southeast-2");
        try (var context = new RunContext(config, false)) {
            assertThat(context.awsRegion()).as("the SDK's chain: the aws.region property first").isEqualTo("ap-southeast-2");
        } finally {
            System.clearProperty("aws.region");
        }
    }

    @Test
    void errors_comeInTheOrderOfTheLines_andBlameOnlyWhatTheFileWrote() {
        var errors = errors("""
                routes:
                  - to: [nope]
                sinks: {log: {type: log}}
                listener:
                  lease: 12h
                  max-receives: 1000
                sources: {s: {sqs: {queue: q}}, t: {format: raw}}
                """);
        assertThat(errors.stream().map(e -> Integer.parseInt(e.split(":")[1])).toList()).isSorted();
        assertThat(errors).anySatisfy(e -> assertThat(e).startsWith("ferry.yaml:6: listener.max-receives: max-receives x lease = "
                + "43200000s outlasts the ledger's default ttl of 7d"));
        assertThat(errors).noneMatch(e -> e.contains("ledger.ttl:"));
    }

    @Test // the source took bodies up to its max-body-bytes and the decoder refused every one over its own 1 MiB: 422
    void anHttpSourcesMaxBodyBytes_isWhatItsDecoderReads() {
        var yaml = "sources: {s: {http: {auth: none, max-body-bytes: 4194304}, format: raw}}\nsinks: {log: {type: log}}\n"
                + "routes:\n  - to: [log]\n";
        var config = ((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", yaml, k -> null, ADAPTERS)).config();
        var decoder = ConfigParts.decoder(config.sources().get("s"));
        var body = new byte[2 << 20];
        java.util.Arrays.fill(body, (byte) 'x');
        var decoded = decoder.decode(new dev.ferry.domain.model.Delivery("m-1", body, Map.of(), 1, java.time.Instant.now(), null,
                null, "s", null));
        assertThat(decoded).isInstanceOf(dev.ferry.domain.decode.Decoded.Events.class);
        assertThat(((dev.ferry.domain.decode.Decoded.Events) decoded).events().getFirst().payload()).hasSize(2 << 20);

        // as json, one field of 1.5 MiB (a file, base64): the string limit follows the body's
        var json = ConfigParts.decoder(((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", yaml.replace("format: raw",
                "format: json"), k -> null, ADAPTERS)).config().sources().get("s"));
        var field = "{\"id\":\"e-1\",\"type\":\"upload\",\"file\":\"" + "A".repeat(3 << 19) + "\"}";
        assertThat(json.decode(new dev.ferry.domain.model.Delivery("m-2", field.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Map.of(), 1, java.time.Instant.now(), null, null, "s", null)))
                .isInstanceOf(dev.ferry.domain.decode.Decoded.Events.class);
    }

    @Test // thirty-sixth round: a Kafka source decoded up to 1 MiB, SQS's largest message: a topic's 3 MB record (one
          // a Ferry Kafka sink writes by default) was a poison, dead-lettered unhandled
    void aKafkaSourcesDecoder_readsTheRecordsATopicHolds_andAnSqsSourcesStaysAtSqssLargest() {
        var yaml = "sources: {k: {kafka: {bootstrap-servers: 127.0.0.1:9, topics: [t]}, format: raw},\n"
                + "  q: {sqs: {queue: q}, format: raw}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";
        var config = ((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", yaml, k -> null, ADAPTERS)).config();
        var body = new byte[3 << 20];
        java.util.Arrays.fill(body, (byte) 'x');
        var record = new dev.ferry.domain.model.Delivery("t-0@1", body, Map.of(), 1, java.time.Instant.now(), null, null, "k", null);
        var decoded = ConfigParts.decoder(config.sources().get("k")).decode(record);
        assertThat(decoded).isInstanceOf(dev.ferry.domain.decode.Decoded.Events.class);
        assertThat(((dev.ferry.domain.decode.Decoded.Events) decoded).events().getFirst().payload()).hasSize(3 << 20);
        assertThat(ConfigParts.decoder(config.sources().get("q")).decode(record))
                .as("no SQS message is that large: refused as before").isInstanceOf(dev.ferry.domain.decode.Decoded.Malformed.class);
    }

    @Test
    void admin_isOnByDefault_onLoopback_orOff_orWhereTheFileSays() {
        var tail = "sources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\nroutes:\n  - to: [log]\n";
        assertThat(((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", tail, k -> null, ADAPTERS)).config().admin().listen())
                .hasToString("127.0.0.1:9465");
        assertThat(((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", "admin: {listen: \"off\"}\n" + tail, k -> null, ADAPTERS))
                .config().admin().listen()).isNull();
        var set = ((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", "admin: {listen: \"0.0.0.0:8081\", stall-after: 2m}\n"
                + "logging: {level: debug, format: json, levels: {org.apache.kafka: info}}\n" + tail, k -> null, ADAPTERS)).config();
        assertThat(set.admin().listen()).hasToString("0.0.0.0:8081");
        assertThat(set.admin().stallAfter()).isEqualTo(Duration.ofMinutes(2));
        assertThat(set.listener().holdLimit()).as("the default, within the stall").isEqualTo(Duration.ofMinutes(1));
        assertThat(errors("admin: {stall-after: 2m}\nlistener: {hold-limit: 3m}\n" + tail))
                .anySatisfy(e -> assertThat(e).contains("hold-limit").contains("must be shorter than admin.stall-after"));
        // a throttle held at the limit waits up to a tenth more: 14m30s + 1m passes a 15m stall
        assertThat(errors("admin: {stall-after: 15m}\nlistener: {hold-limit: 14m30s}\n" + tail)).anySatisfy(e -> assertThat(e)
                .contains("hold-limit").contains("a throttle's spread"));
        // liveness answers on the metrics address too, with the admin one off
        assertThat(errors("admin: {listen: \"off\", stall-after: 2m}\nmetrics: {listen: \"127.0.0.1:9464\"}\n"
                + "listener: {hold-limit: 3m}\n" + tail)).anySatisfy(e -> assertThat(e).contains("hold-limit"));
        // a hold limit chosen with the stall left to its default (15m) started before: the stall now outlasts the hold
        var holding = ((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", "listener: {hold-limit: 30m}\n" + tail,
                k -> null, ADAPTERS)).config();
        assertThat(holding.listener().holdLimit()).isEqualTo(Duration.ofMinutes(30));
        assertThat(holding.admin().stallAfter()).isEqualTo(Duration.ofMinutes(60));
        assertThat(set.logging()).isEqualTo(new dev.ferry.app.logging.FerryLogging.Settings("debug", "json",
                java.util.Map.of("org.apache.kafka", "info")));
    }

    @Test
    void oneQueueNamedByNameAndByArn_isOneQueue_refusedForTwoSources() {
        assertThat(errors("sources: {a: {sqs: {queue: orders}}, b: {sqs: {queue: \"arn:aws:sqs:eu-west-1:123456789012:orders\"}}}\n"
                + "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n"))
                .anySatisfy(e -> assertThat(e).contains("reads queue orders already"));
        // queues of one name in two accounts are two queues (a fan-in from several accounts)
        assertThat(parse("sources: {a: {sqs: {queue: \"arn:aws:sqs:us-east-1:111111111111:orders\"}}, "
                + "b: {sqs: {queue: \"https://sqs.us-east-1.amazonaws.com/222222222222/orders\"}}}\n"
                + "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n")).isInstanceOf(ConfigReader.Result.Ok.class);
        assertThat(errors("sources: {a: {sqs: {queue: \"arn:aws:sqs:us-east-1:111111111111:orders\"}}, "
                + "b: {sqs: {queue: \"https://sqs.us-east-1.amazonaws.com/111111111111/orders\"}}}\n"
                + "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n"))
                .anySatisfy(e -> assertThat(e).contains("reads queue orders already"));
    }

    @Test
    void anEmbeddedServerOnPortZero_isRefused_notTakenForRealAws() {
        // port 0 read as "no embedded server": no local endpoint, no local credentials, the machine's own AWS account
        assertThat(errors("embedded-sqs: {port: 0}\nsources: {s: {sqs: {queue: q}}}\nsinks: {log: {type: log}}\n"
                + "routes:\n  - to: [log]\n")).anySatisfy(e -> assertThat(e).contains("port"));
    }

    @Test
    void aDefaultApplies_whenItsVariableIsSetButEmpty_asInTheShell() {
        // SQS_ENDPOINT= in a .env made the endpoint "", read as none: the run went to real AWS
        var config = ((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml",
                "aws: {endpoint: \"${SQS_ENDPOINT:-http://127.0.0.1:9324}\"}\nsources: {s: {sqs: {queue: q}}}\n"
                        + "sinks: {log: {type: log}}\nroutes:\n  - to: [log]\n",
                k -> k.equals("SQS_ENDPOINT") ? "" : null, ADAPTERS)).config();
        assertThat(config.aws().endpoint()).hasToString("http://127.0.0.1:9324");
    }

    @Test
    void sinksNamedWithADot_keepTheirWholeName() {
        // a sink's settings were named after the last part of the key: 'orders.out' and 'audit.out' were both 'out', and
        // shared their metrics, their logger and their spans
        var config = ((ConfigReader.Result.Ok) ConfigReader.parse("f.yaml", "sources: {s: {sqs: {queue: q}}}\n"
                + "sinks: {orders.out: {type: log}, audit.out: {type: log}}\nroutes:\n  - to: [orders.out, audit.out]\n",
                k -> null, ADAPTERS)).config();
        assertThat(config.sinks().values()).extracting(spec -> spec.plan().open(null).name())
                .containsExactly("orders.out", "audit.out");
    }

    @Test
    void theMturkRouter_readsItsSenderAllowlist_andRoutesByTypePrefix() {
        var router = read("mturk-router.yaml", Map.of("MTURK_SENDER_ID", "AIDA123"));
        assertThat(router.routes()).extracting(FerryConfig.RouteSpec::typePrefix).containsExactly(null, "HIT", null);
        assertThat(router.sources().get("mturk").plan()).isInstanceOfSatisfying(SqsSourceConfig.class,
                sqs -> assertThat(sqs.allowedSenders()).containsExactly("AIDA123"));
    }

    @Test
    void everyExample_isValid() throws Exception {
        try (var files = java.nio.file.Files.list(Path.of("../examples"))) {
            var examples = files.filter(f -> f.toString().endsWith(".yaml")).map(f -> f.getFileName().toString()).toList();
            assertThat(examples).contains("local.yaml", "mturk-router.yaml", "s3-to-kafka.yaml", "sqs-to-http.yaml",
                    "fifo-trades.yaml", "http-to-kafka.yaml");
            for (var example : examples) {
                read(example, Map.of("INGEST_TOKEN", "an-example-token", "MTURK_SENDER_ID", "AIDA123")); // neither has a default
            }
        }
    }

    @Test
    void httpAndKafkaSinks_areRead_withTheirSettings() {
        var config = read("s3-to-kafka.yaml", Map.of("QA_KAFKA", "qa:9092"));
        assertThat(config.sinks().get("qa").plan()).isInstanceOfSatisfying(KafkaSinkConfig.class, k -> {
            assertThat(k.bootstrapServers()).isEqualTo("qa:9092");
            assertThat(k.topic()).isEqualTo("qa-archive-new");
            assertThat(k.valueFromAttribute()).isEqualTo("objectKey");
        });
        var listener = read("sqs-to-http.yaml", Map.of());
        assertThat(listener.sinks().get("api").plan()).isInstanceOfSatisfying(HttpSinkConfig.class, h -> {
            assertThat(h.method()).isEqualTo("POST");
            assertThat(h.throttleDefault()).isEqualTo(Duration.ofMinutes(5));
            assertThat(h.bearerTokenEnv()).isEqualTo("API_TOKEN");
        });
        assertThat(listener.listener().maxReceives()).isEqualTo(10);
    }

    @Test
    void fifoTrades_readsJsonPointers_andContentDedup() {
        var config = read("fifo-trades.yaml", Map.of());
        var source = config.sources().get("trades");
        assertThat(source.format()).isEqualTo("json");
        assertThat(source.json()).isEqualTo(new FerryConfig.JsonPointers("/trade", "/type", "/account", null, "json"));
        assertThat(config.sinks().get("confirmed").plan()).isInstanceOfSatisfying(SqsSinkConfig.class,
                sqs -> assertThat(sqs.fifo()).isTrue());
    }

    @Test // #16: an example must not run with a token everybody knows (it defaulted to change-me)
    void httpToKafka_takesItsTokenFromTheEnvironment_withNoDefault() {
        var missing = ConfigReader.read(Path.of("../examples/http-to-kafka.yaml"), Map.<String, String>of()::get, ADAPTERS);
        assertThat(missing).isInstanceOf(ConfigReader.Result.Invalid.class);
        assertThat(((ConfigReader.Result.Invalid) missing).errors().stream().map(ConfigError::toString).toList())
                .anySatisfy(e -> assertThat(e).contains("environment variable INGEST_TOKEN is not set"));
        var config = read("http-to-kafka.yaml", Map.of("INGEST_TOKEN", "s3cret"));
        assertThat(config.sources().get("ingest").plan()).isInstanceOfSatisfying(HttpSourceConfig.class,
                http -> assertThat(http.auth()).isEqualTo(IngestAuth.bearer("s3cret")));
    }

    @Test
    void kafkaAndHttpSources_areRead() {
        var config = read("http-to-kafka.yaml", Map.of("INGEST_TOKEN", "s3cret"));
        assertThat(config.sources().get("ingest").transport()).isEqualTo("http");
        var both = parse("""
                sources:
                  orders:
                    kafka: {bootstrap-servers: "127.0.0.1:9092", topics: [orders, returns], properties: {client.id: x}}
                    format: raw
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """);
        var kafka = (KafkaSourceConfig) ((ConfigReader.Result.Ok) both).config().sources().get("orders").plan();
        assertThat(kafka.topics()).containsExactly("orders", "returns");
        assertThat(kafka.groupId()).isEqualTo("ferry-orders");
        assertThat(kafka.properties()).containsEntry("client.id", "x");
    }

    @Test // the sinks' outage patience was a builder setting only: an app user could not shorten or lengthen it
    void sqsAndKafkaSinks_takeAnOutagePatience_defaultingToFifteenMinutes() {
        var config = ((ConfigReader.Result.Ok) parse("""
                sources: {s: {sqs: {queue: q}, format: json}}
                sinks:
                  out: {type: sqs, queue: out, outage-patience: 2m}
                  log: {type: kafka, bootstrap-servers: "127.0.0.1:9092", topic: t, outage-patience: 0s}
                  plain: {type: sqs, queue: plain}
                routes: [{to: [out, log, plain]}]
                """)).config();
        assertThat(((SqsSinkConfig) config.sinks().get("out").plan()).outagePatience()).isEqualTo(Duration.ofMinutes(2));
        assertThat(((KafkaSinkConfig) config.sinks().get("log").plan()).outagePatience()).isEqualTo(Duration.ZERO);
        assertThat(((SqsSinkConfig) config.sinks().get("plain").plan()).outagePatience()).isEqualTo(Duration.ofMinutes(15));
        assertThat(errors("""
                sources: {s: {sqs: {queue: q}, format: json}}
                sinks: {out: {type: sqs, queue: out, outage-patience: soon}}
                routes: [{to: [out]}]
                """)).anySatisfy(e -> assertThat(e).contains("outage-patience"));
    }

    @Test // a review: `~` and `null` were read as the text "~" and "null" — two sources with ledger-scope: ~ (a template's
          // "nothing") shared the scope "~", and the second one's events with the first one's ids were dropped as duplicates
    void aYamlNull_isNoValue_notTheTextOfIt() {
        var config = ((ConfigReader.Result.Ok) parse("""
                sources:
                  a: {sqs: {queue: a}, format: json, ledger-scope: ~}
                  b: {sqs: {queue: b}, format: json, ledger-scope: null, json: {default-type: }}
                  c: {sqs: {queue: c}, format: json, ledger-scope: "null"}
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """)).config();
        assertThat(config.sources().get("a").ledgerScope()).isNull();
        assertThat(config.sources().get("b").ledgerScope()).isNull();
        assertThat(config.sources().get("b").json().defaultType()).isEqualTo("json");
        assertThat(config.sources().get("c").ledgerScope()).as("quoted: text").isEqualTo("null");
        assertThat(errors("""
                sources: {a: {sqs: {queue: ~}, format: json}}
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """)).anySatisfy(e -> assertThat(e).contains("queue"));
    }

    @Test // a review: an empty list of types (a template with nothing to fill in) matched every event
    void anEmptyTypesList_orTypePrefix_isAnError_notAMatchForEverything() {
        assertThat(errors("""
                sources: {s: {sqs: {queue: q}, format: json}}
                sinks: {log: {type: log}}
                routes: [{match: {types: []}, to: [log]}]
                """)).anySatisfy(e -> assertThat(e).contains("types").contains("matches no type"));
        assertThat(errors("""
                sources: {s: {sqs: {queue: q}, format: json}}
                sinks: {log: {type: log}}
                routes: [{match: {type-prefix: ""}, to: [log]}]
                """)).anySatisfy(e -> assertThat(e).contains("type-prefix"));
        for (String empty : List.of("{type: }", "{type: ~}", "{type-prefix: null}")) { // a review of the change above
            assertThat(errors("""
                    sources: {s: {sqs: {queue: q}, format: json}}
                    sinks: {log: {type: log}}
                    routes: [{match: %s, to: [log]}]
                    """.formatted(empty))).as(empty).anySatisfy(e -> assertThat(e).contains("needs a value"));
        }
        assertThat(errors("""
                sources: {s: {sqs: {queue: q}, format: json}}
                sinks: {log: {type: log}}
                routes: [{match: {type: [a, b]}, to: [log]}]
                """)).as("a list: one error, not 'needs a value'").singleElement()
                .satisfies(e -> assertThat(e).contains("expected a single value"));
    }

    @Test // #15 (7): a typo in a route's match must not ack events without effect
    void unmatchedEvents_areDeadLetteredByDefault_andIgnoredOnlyWhenSaid() {
        String yaml = """
                sources:
                  s:
                    sqs: {queue: q}
                    format: json
                    ledger-scope: orders-and-refunds
                sinks: {log: {type: log}}
                routes: [{match: {type: OrderPlacd}, to: [log]}]
                """;
        var byDefault = ((ConfigReader.Result.Ok) parse(yaml)).config();
        assertThat(byDefault.deadLetterUnmatched()).isTrue();
        assertThat(byDefault.sources().get("s").ledgerScope()).isEqualTo("orders-and-refunds");
        var ignoring = ((ConfigReader.Result.Ok) parse(yaml + "unmatched: ignore\n")).config();
        assertThat(ignoring.deadLetterUnmatched()).isFalse();
        assertThat(byDefault.listener().holdLimit()).isEqualTo(Duration.ofMinutes(5));
        var holding = ((ConfigReader.Result.Ok) parse(yaml + "listener: {hold-limit: 90s}\n")).config();
        assertThat(holding.listener().holdLimit()).isEqualTo(Duration.ofSeconds(90));
        assertThat(byDefault.listener().concurrency()).as("handlers mostly wait on sinks").isEqualTo(64);
        assertThat(byDefault.listener().maxInFlight()).as("0: derived from concurrency and pollers").isZero();
        var windowed = ((ConfigReader.Result.Ok) parse(yaml + "listener: {max-in-flight: 500}\n")).config();
        assertThat(windowed.listener().maxInFlight()).isEqualTo(500);
        assertThat(errors(yaml + "listener: {max-in-flight: 5}\n")).anySatisfy(e -> assertThat(e).contains("max-in-flight"));
        assertThat(errors(yaml.replace("ledger-scope: orders-and-refunds", "ledger-scope: \"\"")))
                .anySatisfy(e -> assertThat(e).contains("ledger-scope").contains("a scope is a name"));
    }

    @Test
    void onPoison_isSkipByDefault_parkWhenAsked_andNothingElse_andAnAdminTokenIsNotShort() {
        String yaml = """
                sources:
                  a: {sqs: {queue: a.fifo}}
                  b: {sqs: {queue: b.fifo}, on-poison: park}
                sinks: {log: {type: log}}
                routes: [{to: [log]}]
                """;
        var config = ((ConfigReader.Result.Ok) parse(yaml + "admin: {token: a-token-of-16-chars}\n")).config();
        assertThat(config.sources().get("a").onPoison()).isEqualTo(dev.ferry.domain.parking.OnPoison.SKIP);
        assertThat(config.sources().get("b").onPoison()).isEqualTo(dev.ferry.domain.parking.OnPoison.PARK);
        assertThat(config.admin().token()).isEqualTo("a-token-of-16-chars");
        // a secret mounted from a file ends with a newline, which no request could carry in its header
        var mounted = ((ConfigReader.Result.Ok) parse(yaml + "admin: {token: \"a-token-of-16-chars\\n\"}\n")).config();
        assertThat(mounted.admin().token()).isEqualTo("a-token-of-16-chars");

        assertThat(errors(yaml.replace("on-poison: park", "on-poison: stop"))).singleElement().asString()
                .contains("on-poison").contains("skip").contains("park");
        assertThat(errors(yaml + "admin: {token: short}\n")).singleElement().asString()
                .contains("admin.token").contains("at least 16 characters");
        assertThat(errors(yaml.replace("b.fifo", "b-standard"))).singleElement().asString()
                .contains("on-poison").contains("a standard queue, which has no groups");
        assertThat(errors(yaml + "ledger: {kind: memory}\n")).singleElement().asString()
                .contains("on-poison").contains("forgets them on restart");
    }

    @Test // a review: a json source without a group pointer made keyless events, so a FIFO sink was refused after it
          // even where the queue or the topic gave every delivery a group; its events now carry the delivery's group
    void aFifoSinkAfterJsonWithoutAGroupPointer_isTakenFromAFifoQueueOrKafka_notFromAStandardQueueOrHttp() {
        String tail = "sinks: {out: {type: sqs, queue: out.fifo}}\nroutes: [{to: [out]}]\n";
        for (var source : List.of("{sqs: {queue: in.fifo}, format: json}",
                "{kafka: {bootstrap-servers: 127.0.0.1:9, topics: [t]}, format: json, json: {id: /id}}")) {
            var result = parse("sources: {s: " + source + "}\n" + tail);
            assertThat(result).as(source + ": " + result).isInstanceOf(ConfigReader.Result.Ok.class);
        }
        // what the sink sends as the MessageGroupId: the FIFO queue's group the delivery came in
        var fifo = (ConfigReader.Result.Ok) parse("sources: {s: {sqs: {queue: in.fifo}, format: json}}\n" + tail);
        var body = "{\"id\":\"o-1\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var decoded = ConfigParts.decoder(fifo.config().sources().get("s")).decode(new dev.ferry.domain.model.Delivery(
                "m-1", body, Map.of(), 1, java.time.Instant.now(), "G", null, "s", null));
        assertThat(((dev.ferry.domain.decode.Decoded.Events) decoded).events().getFirst().groupKey()).isEqualTo("G");

        // a standard queue gives no group, an HTTP client only when it sends X-Ferry-Group: refused as before
        for (var source : List.of("{sqs: {queue: in}, format: json}", "{http: {auth: none}, format: json}")) {
            assertThat(errors("sources: {s: " + source + "}\n" + tail)).as(source)
                    .anySatisfy(e -> assertThat(e).contains("sinks.out.queue").contains("may have no group key"));
        }
        assertThat(parse("sources: {s: {sqs: {queue: in}, format: json, json: {group: /account}}}\n" + tail))
                .as("a group pointer: the document's group").isInstanceOf(ConfigReader.Result.Ok.class);
    }

    @Test
    void environmentVariables_areSubstituted_withDefaults() {
        var result = parse("""
                ledger:
                  kind: memory
                sources:
                  s:
                    sqs: {queue: "${HOME_DIR}-q-${SUFFIX:-a}"}
                sinks:
                  log: {type: log}
                routes:
                  - to: [log]
                """);
        assertThat(((SqsSourceConfig) ((ConfigReader.Result.Ok) result).config().sources().get("s").plan()).queue())
                .isEqualTo("/srv-q-a");
    }

    @Test
    void brokenYaml_andMissingParts_areErrorsNotExceptions() {
        assertThat(errors("sources: [unclosed")).singleElement().asString().startsWith("ferry.yaml:");
        assertThat(errors("just a string")).singleElement().asString().contains("expected a mapping");
        assertThat(errors("sinks: {}\n")).anySatisfy(e -> assertThat(e).contains("sources: at least one source"))
                .anySatisfy(e -> assertThat(e).contains("routes: at least one route"));
        assertThat(errors("sources:\n  a:\n    sqs: {queue: q}\n  a:\n    sqs: {queue: r}\nroutes: []\n"))
                .anySatisfy(e -> assertThat(e).containsIgnoringCase("duplicate"));
    }

    @Test // a review: a file sink's path ~/... wrote into a folder named "~" under the working directory
    void aLeadingTilde_isTheHomeDirectory_asForTheLedger() {
        var home = System.getProperty("user.home");
        assertThat(dev.ferry.app.config.FilePaths.of("~/ferry/audit.jsonl")).isEqualTo(Path.of(home, "ferry", "audit.jsonl"));
        assertThat(dev.ferry.app.config.FilePaths.of("~")).isEqualTo(Path.of(home));
        assertThat(dev.ferry.app.config.FilePaths.of("out/~x.jsonl")).isEqualTo(Path.of("out/~x.jsonl"));
        assertThat(dev.ferry.app.config.FilePaths.of("~other/x")).as("another user's home is not read").isEqualTo(Path.of("~other/x"));
    }

    @Test // a review of the fix: each file sink's path was read a second time — an unset variable was said twice, and the
          // "" it left was one file both sinks wrote
    void fileSinksOnUnsetVariables_saySoOnce_andAreNotTakenForOneFile() {
        var errors = errors("sources: {s: {sqs: {queue: q}}}\nsinks:\n  a:\n    type: file\n    path: ${FERRY_TEST_UNSET_A}\n"
                + "  b:\n    type: file\n    path: ${FERRY_TEST_UNSET_B}\nroutes: [{to: [a, b]}]\n");
        assertThat(errors.stream().filter(e -> e.contains("FERRY_TEST_UNSET_A is not set"))).as(errors.toString()).hasSize(1);
        assertThat(errors).noneMatch(e -> e.contains(" writes "));
    }

    @Test // a review: queues create read a partner's queue ARN of another region, refused before SQS was asked (an
          // IllegalArgumentException of the URL's reading), as "SQS could not be asked ... run the command again": exit 1
          // on every run, the queues after it never tried, those made never printed. It is that queue's refusal (exit 2)
    void queuesCreate_aQueueArnOfAnotherRegion_isThatQueuesRefusal_andTheQueuesAfterItAreWeighed() {
        var config = ((ConfigReader.Result.Ok) parse("""
                sources:
                  partner: {sqs: {queue: "arn:aws:sqs:eu-west-1:123456789012:partner"}, format: raw}
                  there: {sqs: {queue: "https://sqs.us-east-1.amazonaws.com/222222222222/there"}, format: raw}
                sinks: {log: {type: log}}
                routes:
                  - to: [log]
                """)).config();
        var sqs = new AnsweringSqs();
        var made = createdOver(sqs, config);

        assertThat(made.refused()).singleElement().asString().startsWith("source 'partner': the queue "
                + "'arn:aws:sqs:eu-west-1:123456789012:partner' is in region eu-west-1, and SQS is asked in us-east-1")
                .endsWith("; nothing created for it");
        assertThat(made.elsewhere()).as("the queue after it weighed").singleElement().asString()
                .startsWith("source 'there': queue https://sqs.us-east-1.amazonaws.com/222222222222/there of account "
                        + "222222222222 is there");
        assertThat(made.created()).isEmpty();
        assertThat(sqs.asked).as("nothing asked of the partner's queue").containsExactly("AmazonSQS.ListQueues",
                "AmazonSQS.GetQueueAttributes");
    }

    /**
     * A last look: the caller's own queue ARN of another region was made by its name in this one, exit 0. And then its
     * URL (in every form AWS writes one) was: the refusal of its ARN said "give its URL", and that was made here too.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"arn:aws:sqs:eu-west-1:111111111111:orders",
        "https://sqs.eu-west-1.amazonaws.com/111111111111/orders", "https://eu-west-1.queue.amazonaws.com/111111111111/orders",
        "https://sqs-fips.eu-west-1.amazonaws.com/111111111111/orders", "https://sqs.eu-west-1.api.aws/111111111111/orders",
        "https://SQS.EU-WEST-1.AMAZONAWS.COM/111111111111/orders"})
    void queuesCreate_theCallersOwnQueueOfAnotherRegion_isRefused_notMadeHere(String queue) {
        var config = ((ConfigReader.Result.Ok) parse("""
                sources:
                  mine: {sqs: {queue: "%s"}, format: raw}
                sinks: {log: {type: log}}
                routes:
                  - to: [log]
                """.formatted(queue))).config();
        var sqs = new AnsweringSqs();
        var made = createdOver(sqs, config);

        assertThat(made.refused()).singleElement().asString().contains("is in region eu-west-1")
                .contains("set the region (aws.region, AWS_REGION) to eu-west-1").doesNotContain("give its URL")
                .endsWith("; nothing created for it");
        assertThat(made.created()).isEmpty();
        assertThat(sqs.asked).as("nothing made").doesNotContain("AmazonSQS.CreateQueue");
    }

    @Test // the legacy host of us-east-1 names no region: a queue there is of us-east-1, the client's, and made
    void queuesCreate_theCallersOwnQueueUrlOfThisRegion_isMadeHere() {
        var config = ((ConfigReader.Result.Ok) parse("""
                sources:
                  mine: {sqs: {queue: "https://queue.amazonaws.com/111111111111/orders"}, format: raw}
                sinks: {log: {type: log}}
                routes:
                  - to: [log]
                """)).config();
        var sqs = new AnsweringSqs();
        assertThatThrownBy(() -> createdOver(sqs, config)).as("answered 400 here, as any call it does not know")
                .hasMessageContaining("CreateQueue");

        assertThat(sqs.asked).as("asked to make it").contains("AmazonSQS.CreateQueue");
    }

    /** What {@code queues create} makes of the config over {@code sqs}, a client of region us-east-1. */
    private static ConfigParts.MadeQueues createdOver(AnsweringSqs sqs, FerryConfig config) {
        try (var client = SqsClient.builder().region(Region.US_EAST_1).httpClient(sqs)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build()) {
            return ConfigParts.createQueues(client, SqsQueues.of(client), config);
        }
    }

    /**
     * SQS for a client of region us-east-1, answered in this JVM (no network): ListQueues lists a queue of account
     * 111111111111 (the caller's), GetQueueAttributes finds any queue; any other call is refused, 400. {@link #asked}
     * holds the calls (their X-Amz-Target) in order.
     */
    private static final class AnsweringSqs implements SdkHttpClient {

        final List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
            String target = request.httpRequest().firstMatchingHeader("X-Amz-Target").orElse("");
            return new ExecutableHttpRequest() {
                @Override
                public HttpExecuteResponse call() {
                    asked.add(target);
                    return switch (target) {
                        case "AmazonSQS.ListQueues" ->
                                answer(200, "{\"QueueUrls\":[\"https://sqs.us-east-1.amazonaws.com/111111111111/mine\"]}");
                        case "AmazonSQS.GetQueueAttributes" ->
                                answer(200, "{\"Attributes\":{\"QueueArn\":\"arn:aws:sqs:us-east-1:222222222222:there\"}}");
                        default -> answer(400, "{\"__type\":\"com.amazonaws.sqs#InvalidAction\",\"message\":\"not "
                                + "answered here: " + target + "\"}");
                    };
                }

                @Override
                public void abort() {
                }
            };
        }

        private static HttpExecuteResponse answer(int status, String json) {
            return HttpExecuteResponse.builder()
                    .response(SdkHttpResponse.builder().statusCode(status)
                            .putHeader("Content-Type", "application/x-amz-json-1.0").build())
                    .responseBody(AbortableInputStream.create(new java.io.ByteArrayInputStream(
                            json.getBytes(java.nio.charset.StandardCharsets.UTF_8))))
                    .build();
        }

        @Override
        public void close() {
        }
    }
}
