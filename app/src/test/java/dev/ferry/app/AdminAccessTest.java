package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** Reads that show message content: this host freely, another host only with the admin token; changes always with it. */
class AdminAccessTest {

    private static final byte[] TOKEN = AdminAccess.bytes("a-token-of-16-chars!");

    @Test
    void fromThisHost_readsAreOpen_fromAnother_theyNeedTheToken() throws Exception {
        var local = InetAddress.getByName("127.0.0.1");
        var local6 = InetAddress.getByName("::1");
        var other = InetAddress.getByName("10.1.2.3"); // an address only: nothing is sent to it
        assertThat(AdminAccess.mayRead(local, "127.0.0.1:9465", null, TOKEN)).isTrue();
        assertThat(AdminAccess.mayRead(local6, "[::1]:9465", null, null)).isTrue();
        assertThat(AdminAccess.mayRead(other, "ferry.internal:9465", null, TOKEN)).isFalse();
        assertThat(AdminAccess.mayRead(other, "ferry.internal:9465", "Bearer wrong", TOKEN)).isFalse();
        assertThat(AdminAccess.mayRead(other, "ferry.internal:9465", "Bearer a-token-of-16-chars!", TOKEN)).isTrue();
        assertThat(AdminAccess.mayRead(other, "ferry.internal:9465", "Bearer anything", null)).as("no token set: refused").isFalse();
        assertThat(AdminAccess.mayRead(null, null, null, TOKEN)).isFalse();
    }

    @Test
    void aPageOfAnotherSite_whoseNameWasPointedAtThisHost_doesNotReadWithoutTheToken() throws Exception {
        var local = InetAddress.getByName("127.0.0.1");
        // DNS rebinding: the operator's browser reaches 127.0.0.1, but asks for the page's own host
        assertThat(AdminAccess.mayRead(local, "evil.example:9465", null, TOKEN)).isFalse();
        assertThat(AdminAccess.mayRead(local, "127.0.0.1.evil.example", null, TOKEN)).isFalse();
        assertThat(AdminAccess.mayRead(local, "localhost.evil.example:9465", null, TOKEN)).isFalse();
        assertThat(AdminAccess.mayRead(local, "[::1].evil.example", null, TOKEN)).isFalse();
        assertThat(AdminAccess.mayRead(local, "evil.example:9465", "Bearer a-token-of-16-chars!", TOKEN))
                .as("with the token, whatever the name").isTrue();
        for (var name : new String[] {"localhost", "LOCALHOST:9465", "localhost.:9465", "console.localhost:9465",
                "127.0.0.1", "127.1.2.3:80", "[::1]", "[::1]:9465", null}) {
            assertThat(AdminAccess.mayRead(local, name, null, TOKEN)).as(String.valueOf(name)).isTrue();
        }
    }

    @Test
    void changes_needTheBearerToken_always() {
        assertThat(AdminAccess.bearer("Bearer a-token-of-16-chars!", TOKEN)).isTrue();
        assertThat(AdminAccess.bearer("bearer a-token-of-16-chars!", TOKEN)).isFalse();
        assertThat(AdminAccess.bearer("Bearer a-token-of-16-chars", TOKEN)).isFalse();
        assertThat(AdminAccess.bearer(null, TOKEN)).isFalse();
        assertThat(AdminAccess.bearer("Bearer ", null)).isFalse();
    }
}
