package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Who may use the admin endpoints beyond health and metrics. Changes (a release, a redrive) always
 * need {@code admin.token} as a bearer token. Reads that show what messages carry (event lookup,
 * parked groups, the console's state) are open to this host only: from another address (an admin
 * address bound to 0.0.0.0, as in a container) they need the token too, and with no token set they
 * are refused.
 */
final class AdminAccess {

    private AdminAccess() {
    }

    /** The token as bytes, for {@link MessageDigest#isEqual}; null when none is set. */
    static byte[] bytes(String token) {
        return token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether the request brings {@code Authorization: Bearer <token>} (compared in constant time). */
    static boolean bearer(String authorization, byte[] token) {
        if (token == null || authorization == null || !authorization.startsWith("Bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(authorization.substring(7).getBytes(StandardCharsets.UTF_8), token);
    }

    /** Whether a read that shows message content may be answered to {@code remote}. */
    static boolean mayRead(InetAddress remote, String authorization, byte[] token) {
        return remote != null && remote.isLoopbackAddress() || bearer(authorization, token);
    }

    static boolean mayRead(HttpExchange exchange, byte[] token) {
        var remote = exchange.getRemoteAddress() == null ? null : exchange.getRemoteAddress().getAddress();
        return mayRead(remote, exchange.getRequestHeaders().getFirst("Authorization"), token);
    }
}
