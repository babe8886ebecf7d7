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
        assertThat(AdminAccess.mayRead(local, null, TOKEN)).isTrue();
        assertThat(AdminAccess.mayRead(local6, null, null)).isTrue();
        assertThat(AdminAccess.mayRead(other, null, TOKEN)).isFalse();
        assertThat(AdminAccess.mayRead(other, "Bearer wrong", TOKEN)).isFalse();
        assertThat(AdminAccess.mayRead(other, "Bearer a-token-of-16-chars!", TOKEN)).isTrue();
        assertThat(AdminAccess.mayRead(other, "Bearer anything", null)).as("no token set: refused").isFalse();
        assertThat(AdminAccess.mayRead(null, null, TOKEN)).isFalse();
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
