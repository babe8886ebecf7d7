package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import dev.ferry.test.MapSettings;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The HTTP adapter's pure parts: Retry-After, URL templates, the breaker, splitting request bodies. */
class HttpAdapterUnitTest {

    private static final Clock NOW = Clock.fixed(Instant.parse("2026-11-23T10:00:00Z"), ZoneOffset.UTC);
    private static final Duration FALLBACK = Duration.ofMinutes(5);

    @Test
    void retryAfter_readsSecondsAndDates_andFallsBackOnNonsense() {
        assertThat(RetryAfter.parse("30", NOW, FALLBACK)).isEqualTo(Duration.ofSeconds(30));
        assertThat(RetryAfter.parse(" 0 ", NOW, FALLBACK)).as("at least a second: 0 would be sent again at once")
                .isEqualTo(RetryAfter.MIN);
        assertThat(RetryAfter.parse("Mon, 23 Nov 2026 10:01:30 GMT", NOW, FALLBACK)).isEqualTo(Duration.ofSeconds(90));
        assertThat(RetryAfter.parse("Mon, 23 Nov 2026 09:00:00 GMT", NOW, FALLBACK)).as("in the past").isEqualTo(RetryAfter.MIN);
        // a review: the two older HTTP-date forms a recipient must read (RFC 9110 5.6.7) were the 5-minute fallback
        assertThat(RetryAfter.parse("Monday, 23-Nov-26 10:01:30 GMT", NOW, FALLBACK)).as("RFC 850").isEqualTo(Duration.ofSeconds(90));
        assertThat(RetryAfter.parse("Mon Nov 23 10:01:30 2026", NOW, FALLBACK)).as("asctime").isEqualTo(Duration.ofSeconds(90));
        assertThat(RetryAfter.parse("Mon Nov  2 10:01:30 2026", NOW, FALLBACK)).as("asctime, a day of one digit, past")
                .isEqualTo(RetryAfter.MIN);
        assertThat(RetryAfter.parse("soon", NOW, FALLBACK)).isEqualTo(FALLBACK);
        assertThat(RetryAfter.parse("-5", NOW, FALLBACK)).isEqualTo(FALLBACK);
        assertThat(RetryAfter.parse(null, NOW, FALLBACK)).isEqualTo(FALLBACK);
        assertThat(RetryAfter.parse("999999", NOW, FALLBACK)).as("capped").isEqualTo(Duration.ofHours(12));
        assertThat(RetryAfter.parse("99999999999999999999", NOW, FALLBACK)).as("past a long: the longest, not the fallback")
                .isEqualTo(Duration.ofHours(12));
        assertThat(RetryAfter.parse("Mon, 23 Nov 2026 10:01:30 GMT", "Mon, 23 Nov 2026 11:01:00 GMT", NOW, FALLBACK))
                .as("counted from the answer's Date").isEqualTo(Duration.ofSeconds(1));
        assertThat(RetryAfter.parse("Mon, 23 Nov 2026 10:01:30 GMT", "not a date", NOW, FALLBACK))
                .as("an unreadable Date: this host's clock").isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void urlTemplate_fillsAndEncodesPlaceholders() {
        var t = new UrlTemplate("https://api.example.com/v1/{type}/{key}?g={group}&t={attr.tenant}");
        var e = new Event("doc 1#0", "HIT/Reviewable", null, "H&1", new byte[0], Map.of("tenant", "a b"));
        assertThat(t.expand(e).toString())
                .isEqualTo("https://api.example.com/v1/HIT%2FReviewable/doc%201%230?g=H%261&t=a%20b");
    }

    @Test // thirty-eighth round: half a surrogate pair was encoded as '?': three keys filled {key} with one value
    void urlTemplate_keepsKeysThatDifferInHalfASurrogatePair_apart() {
        var t = new UrlTemplate("http://h.example/docs/{key}");
        var urls = java.util.stream.Stream.of("a\uD800", "a\uDBFF", "a?")
                .map(key -> t.expand(new Event(key, "T", null, null, new byte[0], Map.of())).toString()).toList();
        assertThat(urls).doesNotHaveDuplicates().contains("http://h.example/docs/a%3F");
        String ledgerForm = dev.ferry.domain.idempotency.LedgerKeys.bounded("a\uD800"); // "u:" and a hash
        assertThat(t.expand(new Event(ledgerForm, "T", null, null, new byte[0], Map.of())).toString())
                .as("a key spelled like the ledger's form (a review)").isNotEqualTo(urls.getFirst());
        String hashed = HeaderValues.boundedKey("a\uD800", "a\uD800");
        assertThat(t.expand(new Event(hashed, "T", null, null, new byte[0], Map.of())).toString())
                .as("a key spelled like the hash form (a review)").isNotEqualTo(urls.getFirst());
        assertThat(t.expand(new Event("a\uD800", "T", null, null, new byte[0], Map.of())).toString())
                .as("the same key, the same document").isEqualTo(urls.getFirst());
    }

    @Test
    void urlTemplate_withAHostTheClientRefuses_isRefusedWhenBuilt_notOnEveryEvent() {
        // 'my_api' parses as a registry authority: accepted at start, every event then failed, retried and dead-lettered
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new UrlTemplate("http://my_api:8080/hook/{key}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no host");
        assertThat(new UrlTemplate("http://my-api:8080/hook/{key}")).isNotNull();
    }

    @Test
    void urlTemplate_refusesPathValuesThatWouldPointTheRequestElsewhere_queryValuesMayBeMissing() {
        var t = new UrlTemplate("https://h.example/tenants/{attr.tenant}/events?g={group}");
        var dotDot = new Event("k", "T", null, null, new byte[0], Map.of("tenant", ".."));
        var missing = new Event("k", "T", null, null, new byte[0], Map.of());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.expand(dotDot)).hasMessageContaining("another path");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.expand(missing)).hasMessageContaining("no value");
        assertThat(t.expand(new Event("k", "T", null, null, new byte[0], Map.of("tenant", "a..b"))).toString())
                .as("a group left out of the query is an empty parameter").isEqualTo("https://h.example/tenants/a..b/events?g=");
        // a review: sent as ..%2F..%2Fadmin, which a server that decodes before it normalises reads as ../../admin
        for (String slashed : new String[] {"../../admin", "a/../b", "a/..", "..\\x", "./x", "..;/admin", "..;x"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.expand(new Event("k", "T", null, null, new byte[0],
                    Map.of("tenant", slashed)))).as(slashed).hasMessageContaining("another path");
        }
        assertThat(t.expand(new Event("k", "T", null, null, new byte[0], Map.of("tenant", "a/b.c/..d"))).toString())
                .as("slashes without a dot segment").isEqualTo("https://h.example/tenants/a%2Fb.c%2F..d/events?g=");
        var sink = HttpSink.builder("https://h.example/tenants/{attr.tenant}/events").build();
        try {
            assertThat(sink.publish(dotDot)).isInstanceOf(Outcome.Reject.class);
        } finally {
            sink.close();
        }
    }

    @Test // a review: a '?' or '#' in an attribute's name was read as the query's start: later path values unchecked
    void urlTemplate_aQuestionMarkInAnAttributeName_doesNotEndThePath() {
        var t = new UrlTemplate("https://h.example/t/{attr.a?b}/{key}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.expand(new Event("..", "T", null, null, new byte[0],
                Map.of("a?b", "V")))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another path");
        var hash = new UrlTemplate("https://h.example/t/{attr.a#b}/{group}");
        var noGroup = new Event("k", "T", null, null, new byte[0], Map.of("a#b", "V"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> hash.expand(noGroup)).as("no group: /t/V/")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no value");
        var query = new UrlTemplate("https://h.example/t/{attr.a?b}/x?k={key}&g={group}");
        assertThat(query.expand(new Event("..", "T", null, null, new byte[0], Map.of("a?b", "V"))).toString())
                .as("after a literal '?', as before").isEqualTo("https://h.example/t/V/x?k=..&g=");
    }

    @Test
    void breaker_opensAfterTheThreshold_letsOneProbeThrough_andClosesOnSuccess() throws Exception {
        var b = new Breaker(2, Duration.ofMillis(100));
        assertThat(b.admit()).isZero();
        b.failure();
        assertThat(b.admit()).as("one failure is not enough").isZero();
        b.failure();
        assertThat(b.isOpen()).isTrue();
        assertThat(b.admit()).isPositive();
        Thread.sleep(150);
        assertThat(b.admit()).as("the probe").isZero();
        assertThat(b.admit()).as("only one probe at a time").isPositive();
        b.success();
        assertThat(b.isOpen()).isFalse();
        assertThat(b.admit()).isZero();
    }

    @Test
    void breaker_probeFailing_reopensAtOnce() throws Exception {
        var b = new Breaker(3, Duration.ofMillis(100));
        b.failure();
        b.failure();
        b.failure();
        Thread.sleep(150);
        assertThat(b.admit()).isZero();
        b.failure();
        assertThat(b.admit()).isPositive();
    }

    @Test // #16
    void breaker_probeNeverMade_givesTheProbeSlotBack() throws Exception {
        var b = new Breaker(1, Duration.ofMillis(100));
        b.failure();
        Thread.sleep(150);
        assertThat(b.admit()).as("the probe").isZero();
        assertThat(b.admit()).as("only one probe at a time").isPositive();
        b.skipped();
        assertThat(b.isOpen()).as("nothing was learnt, and past its cool-down nothing is held back").isFalse();
        assertThat(b.admit()).as("the next caller probes").isZero();
    }

    @Test // a last look: said open until a call closed it, a quiet route's health, gauge and console said "holding back"
          // for hours after the endpoint was back (its events back in the queue, no call to close it)
    void breaker_pastItsCoolDown_isNotSaidOpen_andItsProbeIs() throws Exception {
        var b = new Breaker(1, Duration.ofMillis(50));
        b.failure();
        assertThat(b.isOpen()).as("within its cool-down").isTrue();
        Thread.sleep(100);
        assertThat(b.isOpen()).as("past it: the next call goes through").isFalse();
        assertThat(b.admit()).as("the probe").isZero();
        assertThat(b.isOpen()).as("its probe under way: the others held back").isTrue();
        b.failure();
        assertThat(b.isOpen()).as("reopened by the probe's failure").isTrue();
    }

    @Test // a review: a call admitted before the breaker opened, skipped while the probe was out, let a second probe through
    void breaker_aCallSkippedWhileAnotherProbes_leavesTheProbeSlotTaken() throws Exception {
        var b = new Breaker(1, Duration.ofMillis(100));
        var admittedEarlier = new java.util.concurrent.CompletableFuture<Duration>();
        var skip = new java.util.concurrent.CountDownLatch(1);
        var earlier = Thread.ofPlatform().start(() -> {
            admittedEarlier.complete(b.admit()); // closed: admitted, its call under way
            try {
                skip.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            b.skipped(); // its call never made (no connection slot)
        });
        assertThat(admittedEarlier.get(10, java.util.concurrent.TimeUnit.SECONDS)).isZero();
        b.failure();
        Thread.sleep(150);
        assertThat(b.admit()).as("the probe").isZero();
        skip.countDown();
        earlier.join(10_000);
        assertThat(earlier.isAlive()).isFalse();
        var second = new java.util.concurrent.CompletableFuture<Duration>();
        Thread.ofPlatform().start(() -> second.complete(b.admit())).join(10_000);
        assertThat(second.get(10, java.util.concurrent.TimeUnit.SECONDS)).as("still one probe at a time").isPositive();
        b.skipped();
        assertThat(b.admit()).as("the probe's own skip gives its slot back").isZero();
    }

    @Test // #16
    void redact_keepsSchemeHostAndPort_only() {
        assertThat(Redact.url(URI.create("http://user:pw@127.0.0.1:8080/hooks/SECRET?token=abc"))).isEqualTo("http://127.0.0.1:8080/\u2026");
        assertThat(Redact.url("https://hooks.example.com")).isEqualTo("https://hooks.example.com");
        assertThat(Redact.url("https://hooks.example.com/")).isEqualTo("https://hooks.example.com");
        assertThat(Redact.url("https://hooks.example.com?token=abc")).isEqualTo("https://hooks.example.com/\u2026");
        assertThat(Redact.url("https://hooks.example.com/#abc")).isEqualTo("https://hooks.example.com/\u2026");
        assertThat(Redact.url("http://[::1]:9000/x")).isEqualTo("http://[::1]:9000/\u2026");
        assertThat(Redact.url("http://user:pw@my_host:81/x")).as("registry-based authority").isEqualTo("http://my_host:81/\u2026");
        assertThat(Redact.url("https://u:p@api.example.com/{type}/{key}?k=SECRET")).as("a template").isEqualTo("https://api.example.com/\u2026");
        assertThat(Redact.url("/login?token=abc")).as("a relative Location").isEqualTo("/\u2026");
        assertThat(Redact.url("not a url at all")).isEqualTo("(not a url)");
    }

    @Test // health shows a sink's outage to anyone: where the calls go and how they fail, never what the endpoint sent
    void anOutageInBrief_keepsTheTargetAndHowTheCallFailed_notWhatWasAnswered() {
        String where = "POST https://hooks.example.com:8443/\u2026";
        assertThat(SinkAnswers.brief(where + " answered HTTP 503: {\"echo\":\"card 4111\"}")).isEqualTo(where + " answered HTTP 503");
        assertThat(SinkAnswers.brief(where + " answered HTTP 401: a credential problem (credentials refused: rotated, expired or "
                + "wrong?): invalid token sk_live_123")).isEqualTo(where + " answered HTTP 401");
        assertThat(SinkAnswers.brief(where + " answered HTTP 409: busy (the endpoint may still be working on an earlier attempt "
                + "with this Idempotency-Key)")).isEqualTo(where + " answered HTTP 409");
        assertThat(SinkAnswers.brief(where + ": no answer within PT10S")).isEqualTo(where + ": no answer within PT10S");
        assertThat(SinkAnswers.brief(where + ": connection refused")).isEqualTo(where + ": connection refused");
        assertThat(SinkAnswers.brief(where + ": no connection within PT5S")).as("a dropped SYN, a silent resolver")
                .isEqualTo(where + ": no connection within PT5S");
        assertThat(SinkAnswers.brief(where + ": host name did not resolve"))
                .isEqualTo(where + ": host name did not resolve");
        assertThat(SinkAnswers.brief(where + ": could not connect: NoRouteToHostException No route to host"))
                .as("what was thrown, not its message")
                .isEqualTo(where + ": could not connect: NoRouteToHostException");
        assertThat(SinkAnswers.brief(where + ": ProtocolException Invalid status line: \"HTTP/1.1 200 card 4111\""))
                .as("what was thrown, not its message").isEqualTo(where + ": ProtocolException");
        assertThat(SinkAnswers.brief("card 4111: of another form")).doesNotContain("4111");
    }

    @Test // a review: the JDK's client throws a ConnectException for a host name that did not resolve and a host or
          // network out of reach too: each said "connection refused", and the operator looked for a closed port
    void aConnectionNotMade_saysWhy_refusedOnlyWhenItWas() {
        var answers = new SinkAnswers("api", Duration.ofSeconds(10), NOW, FALLBACK, HttpSink.AuthFailures.RETRY,
                Duration.ZERO);
        var target = URI.create("http://hooks.example.com:8080/x");
        String where = "POST http://hooks.example.com:8080/\u2026";
        var unresolved = new java.net.ConnectException(); // as the JDK's client wraps it: no message of its own
        unresolved.initCause(new java.nio.channels.UnresolvedAddressException());
        var noRoute = new java.net.ConnectException("No route to host");
        noRoute.initCause(new java.net.NoRouteToHostException("No route to host"));
        var refusedWrapped = new java.net.ConnectException();
        refusedWrapped.initCause(new java.net.ConnectException("Connection refused"));
        var refusedAsTheJdkSaysIt = new java.net.ConnectException(); // 21 to 25: no message, over a closed channel
        refusedAsTheJdkSaysIt.initCause(new java.net.ConnectException());
        refusedAsTheJdkSaysIt.getCause().initCause(new java.nio.channels.ClosedChannelException());
        var cases = new java.util.LinkedHashMap<Throwable, String>();
        cases.put(refusedAsTheJdkSaysIt, where + ": connection refused");
        cases.put(new java.net.ConnectException("Connection refused"), where + ": connection refused");
        cases.put(refusedWrapped, where + ": connection refused");
        cases.put(unresolved, where + ": host name did not resolve");
        cases.put(noRoute, where + ": could not connect: NoRouteToHostException No route to host");
        cases.put(new java.net.ConnectException("Connection timed out"),
                where + ": could not connect: ConnectException Connection timed out");
        cases.forEach((thrown, reason) -> assertThat(answers.failed(where, target, thrown)).as(reason)
                .isInstanceOfSatisfying(Attempt.Transient.class, t -> {
                    assertThat(t.outcome()).isEqualTo(Outcome.retry(reason));
                    assertThat(t.unreachable()).as("an outage, as before").isTrue();
                    assertThat(t.reached()).as("no connection: nothing sent").isFalse();
                }));
    }

    @Test // a review: a connection not made in time (a firewall dropping the SYN, a resolver that does not answer)
          // named the request's timeout, not the connect timeout it ran into, and health cut it to "…: no"
    void aConnectionNotMadeInTime_namesTheConnectTimeout_andHealthKeepsIt() {
        var target = URI.create("https://hooks.example.com/x");
        String where = "POST https://hooks.example.com/\u2026";
        // the connect timeout: 5 s, at most half the request's
        var cases = Map.of(Duration.ofSeconds(10), "PT5S", Duration.ofSeconds(4), "PT2S");
        cases.forEach((timeout, within) -> {
            var answers = new SinkAnswers("api", timeout, NOW, FALLBACK, HttpSink.AuthFailures.RETRY, Duration.ZERO);
            var attempt = answers.failed(where, target,
                    new java.net.http.HttpConnectTimeoutException("HTTP connect timed out"));
            String reason = where + ": no connection within " + within;
            assertThat(attempt).as("a timeout of %s", timeout).isInstanceOfSatisfying(Attempt.Transient.class, t -> {
                assertThat(t.outcome()).isEqualTo(Outcome.retry(reason));
                assertThat(t.reached()).as("no connection: nothing sent").isFalse();
            });
            assertThat(SinkAnswers.brief(reason)).as("health").isEqualTo(reason);
        });
    }

    @Test // #16
    void urlProblems_nameTheUrlRedacted() {
        var problems = new ArrayList<String>();
        HttpSinkConfig.read(new MapSettings(Map.of("url", "https://u:pw@hooks.example.com/T0/SECRET/{nope}"), problems));
        HttpSinkConfig.read(new MapSettings(Map.of("url", "https://hooks.example.com/T0/SECRET path"), problems));
        assertThat(problems).hasSize(2);
        assertThat(problems.get(0)).contains("https://hooks.example.com/\u2026").contains("unknown placeholder {nope}");
        assertThat(problems.get(1)).contains("https://hooks.example.com/\u2026").contains("not a valid URL");
        assertThat(problems).allSatisfy(p -> assertThat(p).doesNotContain("SECRET").doesNotContain("pw"));
    }

    @Test // #16
    void headerValues_areEncodedOnlyWhenTheyCannotGoAsTheyAre() {
        assertThat(HeaderValues.needsEncoding("doc 1#0")).isFalse();
        assertThat(HeaderValues.needsEncoding("50%+x")).isFalse();
        assertThat(HeaderValues.needsEncoding(" leading")).isTrue();
        assertThat(HeaderValues.needsEncoding("trailing ")).isTrue();
        assertThat(HeaderValues.needsEncoding("caf\u00e9")).isTrue();
        assertThat(HeaderValues.needsEncoding("a\tb")).isTrue();
        assertThat(HeaderValues.needsEncoding("\u6587\u4ef6")).isTrue();
        assertThat(HeaderValues.percentEncode("a b%+\u00e9\n")).isEqualTo("a%20b%25%2B%C3%A9%0A");
    }

    @Test
    void aKeyThatLooksEncoded_isEncodedItself_soNoTwoKeysShareAnIdempotencyKey() {
        // "ü-1" went encoded as %C3%BC-1, and the key "%C3%BC-1" went as it is: one Idempotency-Key for two events, the
        // second answered 200 as a duplicate by the receiver (Ferry's own ingest among them) and never handled
        var target = URI.create("http://127.0.0.1:1/t");
        var encoded = SinkRequests.of(new Event("\u00fc-1", "T", null, null, new byte[0], Map.of()), target, "POST",
                Duration.ofSeconds(1), Map.of(), null);
        var literal = SinkRequests.of(new Event("%C3%BC-1", "T", null, null, new byte[0], Map.of()), target, "POST",
                Duration.ofSeconds(1), Map.of(), null);
        assertThat(encoded.headers().firstValue("Idempotency-Key")).hasValue("%C3%BC-1");
        assertThat(literal.headers().firstValue("Idempotency-Key")).isNotEqualTo(encoded.headers().firstValue("Idempotency-Key"))
                .hasValue("%25C3%25BC-1");
        assertThat(literal.headers().firstValue(HeaderValues.ENCODING_HEADER)).hasValue(HeaderValues.PERCENT);
        assertThat(HeaderValues.keyNeedsEncoding("50%+x")).as("no %XX in it: as it is").isFalse();
        assertThat(HeaderValues.keyNeedsEncoding("50%")).isFalse();
        assertThat(HeaderValues.keyNeedsEncoding("a%2fb")).as("lower-case hex is never written by the encoding").isFalse();
    }

    @Test
    void aKeyThatLooksLikeTheSinksOwnForm_isHashedItself_soNoTwoKeysShareAnIdempotencyKey() throws Exception {
        // a key with half a surrogate pair went as u:<hex>, a long one as sha256:<hex>; a key whose text was exactly that
        // went as it is: one Idempotency-Key for two events, the second answered 2xx as a duplicate and never handled
        String halfPair = "a\uD800";
        var bounded = dev.ferry.domain.idempotency.LedgerKeys.bounded(halfPair);
        assertThat(idempotencyKey(halfPair, "T")).startsWith("ferry-sha256:").isNotEqualTo(idempotencyKey(bounded, "T"));
        assertThat(idempotencyKey(bounded, "caf\u00e9")).as("a type that goes encoded leaves such a key as it is too")
                .isNotEqualTo(idempotencyKey(halfPair, "T"));
        String longKey = "id-" + "x".repeat(2000);
        String hex = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(longKey.getBytes(StandardCharsets.UTF_8)));
        assertThat(idempotencyKey(longKey, "T")).isEqualTo("ferry-sha256:" + hex);
        assertThat(idempotencyKey("ferry-sha256:" + hex, "T")).isNotEqualTo(idempotencyKey(longKey, "T"))
                .startsWith("ferry-sha256:");
        // a natural key of the old forms' shape (an image digest) goes as it is: no form of the sink's looks like it
        assertThat(idempotencyKey("sha256:" + hex, "T")).isEqualTo("sha256:" + hex);
        assertThat(idempotencyKey(bounded, "T")).isEqualTo(bounded);
        assertThat(idempotencyKey("ferry-sha256:" + hex.toUpperCase(java.util.Locale.ROOT), "T")).as("not the sink's form")
                .isEqualTo("ferry-sha256:" + hex.toUpperCase(java.util.Locale.ROOT));
    }

    @Test // a review: a type went at any length (405 KB encoded passed the JDK server's header limit: no answer at all)
    void aLongTypesHeader_isCutAtAWholeCharacter() {
        assertThat(HeaderValues.boundedType("T")).isEqualTo("T");
        assertThat(HeaderValues.boundedType("x".repeat(1_024))).hasSize(1_024);
        assertThat(HeaderValues.boundedType("%C3%A9".repeat(300))).isEqualTo("%C3%A9".repeat(170));
        assertThat(HeaderValues.boundedType("%F0%9F%98%80".repeat(100))).isEqualTo("%F0%9F%98%80".repeat(85));
        assertThat(HeaderValues.boundedType("a" + "%E6%96%87".repeat(200))).isEqualTo("a" + "%E6%96%87".repeat(113));
    }

    private static String idempotencyKey(String key, String type) {
        return SinkRequests.of(new Event(key, type, null, null, new byte[0], Map.of()), URI.create("http://127.0.0.1:1/t"),
                "POST", Duration.ofSeconds(1), Map.of(), null).headers().firstValue("Idempotency-Key").orElseThrow();
    }

    @Test // #16
    void sinkConfig_onAuthFailure_isRetryByDefault_rejectWhenSaid_andNothingElse() {
        var problems = new ArrayList<String>();
        String url = "https://api.example.com/events";
        assertThat(HttpSinkConfig.read(new MapSettings(Map.of("url", url), problems)).onAuthFailure())
                .isEqualTo(HttpSink.AuthFailures.RETRY);
        assertThat(HttpSinkConfig.read(new MapSettings(Map.of("url", url, "on-auth-failure", "reject"), problems)).onAuthFailure())
                .isEqualTo(HttpSink.AuthFailures.REJECT);
        assertThat(HttpSinkConfig.read(new MapSettings(Map.of("url", url, "on-auth-failure", "retry"), problems)).onAuthFailure())
                .isEqualTo(HttpSink.AuthFailures.RETRY);
        assertThat(problems).isEmpty();
        HttpSinkConfig.read(new MapSettings(Map.of("url", url, "on-auth-failure", "ignore"), problems));
        assertThat(problems).hasSize(1);
        assertThat(problems.getFirst()).startsWith("on-auth-failure:");
    }

    @Test
    void sinkConfig_refusesWhatOpeningWouldRefuse_andTheHeadersTheSinkSetsItself() {
        // accepted by the check, these failed only when the run started; the sink's own headers went twice, and a
        // receiver keeping one Idempotency-Key saw the same key on every event and dropped all but the first
        String url = "https://api.example.com/events";
        assertThat(sinkProblem(Map.of("url", url, "timeout", "0s"))).startsWith("timeout:").contains("more than 0");
        assertThat(sinkProblem(Map.of("url", url, "throttle-default", "0s"))).startsWith("throttle-default:");
        for (String restricted : new String[] {"Host", "Connection", "Expect", "Upgrade", "Content-Length"}) {
            assertThat(sinkProblem(Map.of("url", url, "headers." + restricted, "x"))).as(restricted)
                    .startsWith("headers:").contains("'" + restricted + "'").contains("cannot be sent");
        }
        assertThat(sinkProblem(Map.of("url", url, "headers.X-Token", "SECRET\nx"))).startsWith("headers:")
                .contains("cannot be sent").doesNotContain("SECRET");
        for (String own : new String[] {"Idempotency-Key", "idempotency-key", "X-Ferry-Event-Type", "x-ferry-header-encoding"}) {
            assertThat(sinkProblem(Map.of("url", url, "headers." + own, "constant"))).as(own)
                    .startsWith("headers:").contains("'" + own + "'").contains("set by the sink itself");
        }
        assertThat(sinkProblem(Map.of("url", url, "bearer-token-env", "API_TOKEN", "headers.authorization", "Basic x")))
                .startsWith("headers:").contains("bearer token");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HttpSink.builder(url).header("IDEMPOTENCY-KEY", "k"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("set by the sink itself");

        var problems = new ArrayList<String>();
        var config = HttpSinkConfig.read(new MapSettings(Map.of("url", url, "timeout", "2s", "headers.X-Source", "ferry",
                "headers.Authorization", "Basic x"), problems));
        assertThat(problems).isEmpty();
        assertThat(config.timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.headers()).containsEntry("X-Source", "ferry").containsEntry("Authorization", "Basic x");
        config.open(null).close(); // what the check took, the start takes
    }

    private static String sinkProblem(Map<String, String> values) {
        var problems = new ArrayList<String>();
        HttpSinkConfig.read(new MapSettings(values, problems));
        assertThat(problems).as(values.toString()).hasSize(1);
        return problems.getFirst();
    }

    @Test
    void jsonItems_splitsArraysIntoTheExactBytesOfEachElement() {
        var split = JsonItems.split("[ {\"a\":1} ,{\"b\":[1,{\"c\":2}]}]".getBytes(StandardCharsets.UTF_8), 10);
        assertThat(split).isInstanceOfSatisfying(JsonItems.Split.Items.class, items -> {
            assertThat(items.batch()).isTrue();
            assertThat(items.items()).extracting(b -> new String(b, StandardCharsets.UTF_8))
                    .containsExactly("{\"a\":1}", "{\"b\":[1,{\"c\":2}]}");
        });
        assertThat(JsonItems.split("{\"one\":true}".getBytes(StandardCharsets.UTF_8), 10))
                .isInstanceOfSatisfying(JsonItems.Split.Items.class, items -> assertThat(items.batch()).isFalse());
    }

    @Test
    void jsonItems_refusesWhatIsNotEventsWithAReason() {
        assertThat(reason("")).contains("empty body");
        assertThat(reason("[{},{},{}]", 2)).contains("more than 2 events");
        assertThat(reason("[{}, \"x\"]")).contains("element 1").contains("expected an object");
        assertThat(reason("[" + "[".repeat(300) + "]".repeat(300) + "]")).contains("element 0");
        assertThat(reason("{" + "\"a\":{".repeat(300) + "}".repeat(301))).contains("malformed JSON").contains("depth");
    }

    @Test
    void retryAfter_ofForEver_isTwelveHours_notOneSecond() {
        var request = new IngestRequest(1, false);
        var delivery = new dev.ferry.domain.model.Delivery("m-1", new byte[0], Map.of(), 1, Instant.EPOCH, null, null, "in", null);
        request.items[0] = new IngestRequest.Item(request, 0, delivery);
        request.items[0].settle(new dev.ferry.domain.transport.Disposition.Redeliver(
                java.time.temporal.ChronoUnit.FOREVER.getDuration()), new java.util.concurrent.Semaphore(0));
        var answer = IngestAnswers.answer(request, false, false, Duration.ofSeconds(30));
        assertThat(answer.status()).isEqualTo(429);
        assertThat(answer.headers()).containsEntry("Retry-After", "43200"); // it wrapped round to 1: sent again at once
        assertThat(answer.json()).contains("\"retryAfterSeconds\":43200");
    }

    @Test // a review: the caller was told a sink's refusal word for word: an internal host, an endpoint's error body, an
          // IAM role, the account and the queue
    void aRejectedEventsReason_isToldTheCaller_withoutTheServicesBehindIt() {
        var request = new IngestRequest(3, false);
        String[] reasons = {
            "failed 5 time(s), the last 3s ago; last failure: SQS queue 'orders': AccessDenied: User: "
                    + "arn:aws:sts::123456789012:assumed-role/ferry-prod/i-0abc is not authorized",
            "rejected: POST https://billing.internal:8443/… answered HTTP 400: {\"echo\":\"secret-xyz\"}",
            "line 1, offset 7: expected ':' after the field name"};
        for (int i = 0; i < 3; i++) {
            var delivery = new dev.ferry.domain.model.Delivery("m-" + i, new byte[0], Map.of(), 1, Instant.EPOCH, null, null,
                    "in", null);
            request.items[i] = new IngestRequest.Item(request, i, delivery);
            request.items[i].settle(dev.ferry.domain.transport.Disposition.deadLetter(reasons[i]),
                    new java.util.concurrent.Semaphore(0));
        }
        var json = IngestAnswers.answer(request, true, false, Duration.ofSeconds(30)).json();
        assertThat(json).doesNotContain("123456789012").doesNotContain("assumed-role").doesNotContain("billing.internal")
                .doesNotContain("secret-xyz").contains("AccessDenied").contains("answered HTTP 400")
                .contains("line 1, offset 7: expected ':' after the field name");
        // a last look: the answer's own ';' ended what was taken out, and the rest of the endpoint's words went on
        assertThat(CallerReasons.of("POST https://x/… answered HTTP 500: could not execute statement; SQL [insert "
                + "'alice@example.com']; constraint [users_email_key]")).isEqualTo("POST (an endpoint) answered HTTP 500");
    }

    @Test // a review: the events behind a failed head of an ordered batch were told 1 s, the head 300 s
    void anOrderedBatch_tellsNoEventToComeBackSoonerThanAnEventBeforeIt() {
        var request = new IngestRequest(3, true);
        for (int i = 0; i < 3; i++) {
            var delivery = new dev.ferry.domain.model.Delivery("m-" + i, new byte[0], Map.of(), 1, Instant.EPOCH, "g", null,
                    "in", null);
            request.items[i] = new IngestRequest.Item(request, i, delivery);
        }
        request.items[0].settle(new dev.ferry.domain.transport.Disposition.Redeliver(Duration.ofSeconds(300)),
                new java.util.concurrent.Semaphore(0));
        for (int i = 1; i < 3; i++) {
            request.items[i].settle(dev.ferry.domain.transport.Disposition.RELEASE, new java.util.concurrent.Semaphore(0));
        }
        var answer = IngestAnswers.answer(request, true, false, Duration.ofSeconds(30));
        assertThat(answer.headers()).containsEntry("Retry-After", "300");
        assertThat(answer.json()).doesNotContain("\"retryAfterSeconds\":1}")
                .contains("{\"index\":2,\"status\":\"retry\",\"retryAfterSeconds\":300}");
    }

    @Test // a review: an answer is built in a buffer that doubles and is held whole until written, but was charged its
          // length: a 160 KB answer in a buffer of 250 KB took less than two thirds of what it held from the byte budget
    void theChargeOfALargeAnswer_isAtLeastItsBuffersSize() {
        var request = new IngestRequest(20, false);
        for (int i = 0; i < 20; i++) {
            var delivery = new dev.ferry.domain.model.Delivery("m-" + i, new byte[0], Map.of(), 1, Instant.EPOCH, null, null,
                    "in", null);
            request.items[i] = new IngestRequest.Item(request, i, delivery);
            request.items[i].settle(dev.ferry.domain.transport.Disposition.deadLetter("r".repeat(8_000)),
                    new java.util.concurrent.Semaphore(0));
        }
        var built = IngestAnswers.encoded(request, false, Duration.ofSeconds(30)); // as the reply builds it
        assertThat(built.bytes().length).as("the buffer outgrew the answer").isGreaterThan(built.length() * 3 / 2);
        var budget = new java.util.concurrent.Semaphore(1 << 20); // in KiB: the test's own, nothing else takes from it
        var uploads = new Uploads(8, -1, 1_024, 20, budget);

        IngestReply.toEvents(uploads, "in").build(request, true, false, Duration.ofSeconds(30));

        long charged = 1024L * ((1 << 20) - budget.availablePermits());
        assertThat(charged).as("the bytes charged, for an answer of %d in a buffer of %d", built.length(),
                built.bytes().length).isGreaterThanOrEqualTo(built.bytes().length);
    }

    @Test
    void sinkPauses_doubleFromTheFirst_andStopAtThirtySeconds() {
        var pauses = SinkRequests.pauses(Duration.ofMillis(100));
        assertThat(pauses.apply(1)).isEqualTo(100);
        assertThat(pauses.apply(2)).isEqualTo(200);
        assertThat(pauses.apply(70)).as("retries(70, 100ms) paused for ever on its last attempts").isEqualTo(30_000);
        assertThat(SinkRequests.pauses(Duration.ofMinutes(2)).apply(5)).as("a first pause above the bound is kept")
                .isEqualTo(120_000);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HttpSink.builder("http://127.0.0.1:1/")
                        .retries(3, java.time.temporal.ChronoUnit.FOREVER.getDuration()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("firstBackoff must be at most 5m");
    }

    @Test
    void quote_escapesForJson() {
        assertThat(IngestAnswers.quote("a\"b\\c\nd\u0001")).isEqualTo("\"a\\\"b\\\\c\\nd\\u0001\"");
        // a review: half a surrogate pair went out as '?' in UTF-8: two items' ids one, a client matching by id misled
        assertThat(IngestAnswers.quote("\ud800x")).isEqualTo("\"\\ud800x\"");
        assertThat(IngestAnswers.quote("\ud83d\ude00")).as("a whole pair stays as it is").isEqualTo("\"\ud83d\ude00\"");
        assertThat(IngestAnswers.quote("\u2028")).as("a line separator JavaScript reads as a line end").isEqualTo("\"\\u2028\"");
    }

    private static String reason(String body) {
        return reason(body, 1000);
    }

    private static String reason(String body, int max) {
        var split = JsonItems.split(body.getBytes(StandardCharsets.UTF_8), max);
        assertThat(split).isInstanceOf(JsonItems.Split.Invalid.class);
        return ((JsonItems.Split.Invalid) split).reason();
    }

    @Test // a signature forgotten (its request refused with nothing taken) stayed among those waiting to expire, uncounted:
          // refused requests grew the memory past its bound for the whole window
    void aForgottenSignature_leavesNothingBehind_andIsHeardAgain() {
        var seen = new SeenSignatures(2);
        byte[] mac = new byte[32];
        for (int i = 0; i < 1_000; i++) {
            mac[0] = (byte) i;
            mac[1] = (byte) (i >> 8);
            assertThat(seen.remember(mac, 100, 10)).isEqualTo(SeenSignatures.Verdict.FIRST);
            seen.forget(mac, 100);
        }
        assertThat(seen.size()).isZero();
        assertThat(seen.expiring()).isZero();
        assertThat(seen.remember(mac, 100, 10)).as("sent again as it was").isEqualTo(SeenSignatures.Verdict.FIRST);
        assertThat(seen.remember(mac, 100, 10)).as("then it is a replay").isEqualTo(SeenSignatures.Verdict.REPLAYED);
    }
}
