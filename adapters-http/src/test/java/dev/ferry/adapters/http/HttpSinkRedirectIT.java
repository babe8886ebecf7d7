package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.http.ScriptedServer.Response;
import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.model.Event;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP sink's answers to a redirect, against the scripted server on 127.0.0.1: never followed (a POST is
 * not sent again elsewhere), and what it means decides the event's outcome. A review: every 3xx was
 * dead-lettered as "URL moved" — a 303 after a POST that was taken (a redrive posted it again), and an auth
 * proxy's 302 to its login page when a token lapsed (every event to the DLQ, where a 401 loses nothing).
 */
class HttpSinkRedirectIT extends ScriptedSinkFixture {

    /** Where an auth proxy sends a request whose token lapsed; its query holds what must not be printed. */
    private static final String LOGIN_PAGE = "https://login.example.com/oauth2/start?rd=SECRET";

    @Test // RFC 9110 15.4.4: after a POST, 303 is "taken; the result is over there" (post/redirect/get)
    void seeOther_isDone_theRequestSentOnce_andItsLocationNeverFetched() {
        server.script("/orders/42", Response.of(200));
        server.script("/orders", Response.of(303).header("Location", "/orders/42"));
        server.script("/payments", Response.of(303).header("Location", server.uri("/orders/42") + "?receipt=1"));
        server.script("/bare", Response.of(303));
        for (var path : List.of("/orders", "/payments", "/bare")) {
            var sink = sink(to(path));
            assertThat(sink.publish(event("a"))).as(path).isEqualTo(Outcome.done());
            assertThat(server.count(path)).as("%s: sent once, not again", path).isEqualTo(1);
            assertThat(sink.authFailures()).as(path).isZero();
            assertThat(sink.holdingBack()).as(path).isEmpty();
        }
        assertThat(server.count("/orders/42")).as("never followed: the result is not fetched").isZero();
    }

    @Test // Authelia answers a POST whose session lapsed with a 303 to its portal: that took nothing
    void seeOther_toAnotherHost_isALoginPage_handledAsARefusedCredential_notDone() {
        server.script("/behind-portal", Response.of(303).header("Location", LOGIN_PAGE + "&rm=POST"));
        var patient = sink(to("/behind-portal"));
        assertThat(patient.publish(event("a"))).as("waited out, as a 401 is").isEqualTo(Outcome.throttled(SinkAnswers.OUTAGE_WAIT));
        assertThat(patient.authFailures()).isEqualTo(1);

        var impatient = sink(to("/behind-portal").outagePatience(Duration.ZERO));
        assertThat(impatient.publish(event("b"))).isInstanceOfSatisfying(Outcome.Retry.class, r -> assertThat(r.reason())
                .contains("HTTP 303").contains("temporary redirect to https://login.example.com/\u2026")
                .doesNotContain("SECRET"));
        assertThat(server.count("/behind-portal")).as("not repeated in process").isEqualTo(2);
    }

    @Test // IAP, oauth2-proxy, Cloudflare Access: a lapsed token is a 302 (or 307) to a login page, not a moved URL
    void aLoginPageRedirect_forAWhileThenOk_takesThePathOfA401_nothingDeadLettered_deliveredOnce() {
        var expected = List.of(Outcome.throttled(SinkAnswers.OUTAGE_WAIT), Outcome.throttled(SinkAnswers.OUTAGE_WAIT),
                Outcome.done());
        for (int status : new int[] {401, 302, 307}) {
            String path = "/hook" + status;
            var refused = Response.of(status).header("Location", LOGIN_PAGE);
            server.script(path, refused, refused, Response.of(200));
            var sink = sink(to(path));

            var outcomes = new ArrayList<Outcome>();
            outcomes.add(sink.publish(event("a")));
            assertThat(sink.holdingBack()).as("HTTP %d: an outage under way", status)
                    .hasValueSatisfying(why -> assertThat(why).contains("HTTP " + status).doesNotContain("SECRET"));
            outcomes.add(sink.publish(event("a")));
            outcomes.add(sink.publish(event("a")));

            assertThat(outcomes).as("HTTP %d: waited out as a refused credential, never rejected", status)
                    .containsExactlyElementsOf(expected);
            assertThat(server.count(path)).as("HTTP %d: one request a publish, the last one taken", status).isEqualTo(3);
            assertThat(sink.authFailures()).as("HTTP %d: counted", status).isEqualTo(2);
            assertThat(sink.holdingBack()).as("HTTP %d: over", status).isEmpty();
            assertThat(sink.breakerOpen()).isFalse();
        }
    }

    @Test
    void aLoginPageRedirect_pastThePatience_isRetryNamingItsStatusAndWhereItPointed_orRejectUnderOnAuthFailureReject() {
        for (int status : new int[] {302, 307}) {
            server.script("/lapsed" + status, Response.of(status).header("Location", LOGIN_PAGE));
            var sink = sink(to("/lapsed" + status).outagePatience(Duration.ZERO));
            assertThat(sink.publish(event("a"))).as("HTTP %d", status).isInstanceOfSatisfying(Outcome.Retry.class,
                    r -> assertThat(r.reason()).contains("HTTP " + status)
                            .contains("temporary redirect to https://login.example.com/\u2026").doesNotContain("SECRET"));
            assertThat(server.count("/lapsed" + status)).as("HTTP %d: not hammered in process", status).isEqualTo(1);

            var strict = sink(to("/lapsed" + status).onAuthFailure(HttpSink.AuthFailures.REJECT));
            assertThat(strict.publish(event("b"))).as("HTTP %d", status).isInstanceOfSatisfying(Outcome.Reject.class,
                    r -> assertThat(r.reason()).contains("HTTP " + status).doesNotContain("SECRET"));
            assertThat(strict.authFailures()).isEqualTo(1);
        }
    }

    @Test // a review: Rails, Django, Spring and Express answer a POST they took with a 302 to the new record by default
    void aTemporaryRedirectOnTheEndpointsOwnHost_isRejectedOnce_notSentAgainForThePatience() {
        for (int status : new int[] {302, 307}) {
            server.script("/orders" + status, Response.of(status).header("Location", "/orders/42"));
            var sink = sink(to("/orders" + status));
            assertThat(sink.publish(event("a"))).as("HTTP %d", status).isInstanceOfSatisfying(Outcome.Reject.class,
                    r -> assertThat(r.reason()).contains("HTTP " + status).contains("on its own host"));
            assertThat(server.count("/orders" + status)).as("HTTP %d: sent once", status).isEqualTo(1);
            assertThat(sink.authFailures()).as("HTTP %d: not taken for a lapsed credential", status).isZero();
        }
    }

    @Test // a review: a 307 asks for the same request elsewhere — not taken (FastAPI's trailing-slash redirect) — and its
          // reason said "it may have taken the request", which argued against redriving events that never arrived
    void aSameHost307_saysTheRequestWasNotTaken_a302ThatItMayHaveBeen() {
        server.script("/hooks307", Response.of(307).header("Location", "/hooks307/"));
        assertThat(sink(to("/hooks307")).publish(event("a"))).isInstanceOfSatisfying(Outcome.Reject.class,
                r -> assertThat(r.reason()).contains("not taken").contains("trailing slash").doesNotContain("may have taken"));
        server.script("/made302", Response.of(302).header("Location", "/made302/42"));
        assertThat(sink(to("/made302")).publish(event("b"))).isInstanceOfSatisfying(Outcome.Reject.class,
                r -> assertThat(r.reason()).contains("may have taken the request").contains("201 or 303"));
    }

    @Test // #16, and the review: a permanent redirect is the one that says "the url moved"
    void aPermanentRedirect_isRejectedWithItsLocation_neverFollowed() {
        server.script("/new/SECRET", Response.of(200));
        String location = server.uri("/new/SECRET") + "?token=abc";
        for (int status : new int[] {301, 308}) {
            server.script("/old" + status, Response.of(status).header("Location", location));
            var outcome = sink(to("/old" + status)).publish(event("a"));
            assertThat(outcome).as("HTTP %d", status).isInstanceOfSatisfying(Outcome.Reject.class, r -> assertThat(r.reason())
                    .contains("HTTP " + status).contains("moved permanently to " + host() + "/\u2026")
                    .contains("set the sink's url").doesNotContain("SECRET").doesNotContain("abc"));
            assertThat(server.count("/old" + status)).as("a permanent redirect is not retried").isEqualTo(1);
        }
        assertThat(server.count("/new/SECRET")).as("never followed: a 301 would have turned the POST into a GET").isZero();
    }

    @Test // #16: once HttpSinkIT.redirect_isRejectedWithItsLocation_neverFollowed, for the statuses that still mean it
    void anyOtherRedirect_isRejectedWithItsStatusAndLocation_neverFollowed() {
        server.script("/new/SECRET", Response.of(200));
        String location = server.uri("/new/SECRET") + "?token=abc";
        for (int status : new int[] {300, 304, 305, 306}) {
            server.script("/odd" + status, Response.of(status).header("Location", location));
            var sink = sink(to("/odd" + status));
            assertThat(sink.publish(event("a"))).as("HTTP %d", status).isInstanceOfSatisfying(Outcome.Reject.class,
                    r -> assertThat(r.reason()).contains("HTTP " + status).contains("redirect to " + host() + "/\u2026")
                            .doesNotContain("SECRET").doesNotContain("abc"));
            assertThat(server.count("/odd" + status)).as("HTTP %d: not retried", status).isEqualTo(1);
            assertThat(sink.authFailures()).as("HTTP %d: not a credential problem", status).isZero();
        }
        assertThat(server.count("/new/SECRET")).as("never followed").isZero();
    }

    @Test
    void sameOrigin_isTheTargetsSchemeHostAndPort() {
        var target = URI.create("https://api.example.com/hooks/SECRET");
        assertThat(SinkAnswers.sameOrigin(target, "/orders/42")).isTrue();
        assertThat(SinkAnswers.sameOrigin(target, "orders/42?x=1")).isTrue();
        assertThat(SinkAnswers.sameOrigin(target, "HTTPS://API.example.com:443/orders/42")).isTrue();
        assertThat(SinkAnswers.sameOrigin(target, "https://login.example.com/start")).isFalse();
        assertThat(SinkAnswers.sameOrigin(target, "http://api.example.com/orders/42"))
                .as("the app behind a proxy that ends TLS, its own host").isTrue(); // the thirty-second round
        assertThat(SinkAnswers.sameOrigin(target, "http://api.example.com:8080/orders/42")).as("another port").isFalse();
        assertThat(SinkAnswers.sameOrigin(URI.create("http://api.example.com/x"), "https://api.example.com/orders/42"))
                .as("another scheme, the other way").isFalse();
        assertThat(SinkAnswers.sameOrigin(target, "https://api.example.com:8443/orders/42")).as("another port").isFalse();
        assertThat(SinkAnswers.sameOrigin(target, "https://api.example.com/a b")).as("does not parse").isFalse();
        var onItsOwnPort = URI.create("https://api.example.com:8443/hooks/SECRET"); // a last look: a proxy on 8443
        assertThat(SinkAnswers.sameOrigin(onItsOwnPort, "http://api.example.com:8443/orders/42"))
                .as("the app behind a proxy on the target's own port").isTrue();
        assertThat(SinkAnswers.sameOrigin(onItsOwnPort, "http://api.example.com:9000/orders/42")).as("another port")
                .isFalse();
    }
}
