package dev.ferry.app;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * Who may use the admin endpoints beyond health and metrics. Changes (a release, a redrive) always
 * need {@code admin.token} as a bearer token. Reads that show what messages carry (event lookup,
 * parked groups, the console's state) are open to this host only: from another address (an admin
 * address bound to 0.0.0.0, as in a container) they need the token too, and with no token set they
 * are refused for good (403, not the 401 that asks for a token none could match). "This host" means
 * a loopback caller that names a loopback host ({@code localhost}, {@code 127.0.0.1},
 * {@code [::1]}): a web page of another site whose name it points at 127.0.0.1
 * (DNS rebinding) reaches the port from this host's browser, but under its own name. A request a
 * proxy forwarded (it carries {@code Forwarded}, an {@code X-Forwarded-*} header, {@code X-Real-IP} or
 * {@code Via}) is not from this host, though the proxy's connection is: a sidecar in front of an admin address
 * passed any client's {@code Host: localhost} on.
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

    /**
     * Whether a read that shows message content may be answered to {@code remote}, which asked for
     * {@code host} (its {@code Host} header, null when it sent none).
     */
    static boolean mayRead(InetAddress remote, String host, String authorization, byte[] token) {
        return remote != null && remote.isLoopbackAddress() && namesLoopback(host) || bearer(authorization, token);
    }

    static boolean mayRead(HttpExchange exchange, byte[] token) {
        var remote = exchange.getRemoteAddress() == null ? null : exchange.getRemoteAddress().getAddress();
        var headers = exchange.getRequestHeaders();
        if (forwarded(headers)) { // through a proxy on this host (a sidecar): the caller is elsewhere, whatever it named
            return bearer(headers.getFirst("Authorization"), token);
        }
        return mayRead(remote, headers.getFirst("Host"), headers.getFirst("Authorization"), token);
    }

    /**
     * Whether a proxy forwarded the request: it carries {@code Forwarded}, {@code Via}, {@code X-Real-IP}
     * or any {@code X-Forwarded-*} or {@code X-Envoy-*} header (one a client sends itself makes it ask as
     * if from elsewhere — only the token then answers). A proxy that adds none of them cannot be told
     * from a local client: put the admin address behind such a one only with {@code admin.token}, and
     * bind it to the loopback.
     */
    static boolean forwarded(com.sun.net.httpserver.Headers headers) {
        for (String name : headers.keySet()) {
            String lower = name.toLowerCase(java.util.Locale.ROOT);
            if (lower.equals("forwarded") || lower.equals("via") || lower.equals("x-real-ip")
                    || lower.startsWith("x-forwarded-") || lower.startsWith("x-envoy-")) {
                return true;
            }
        }
        return false;
    }

    /** What a refused read is told while a token is set. */
    static final String READ_NEEDS_TOKEN = "reads need Authorization: Bearer <admin.token>, except from this host "
            + "by a loopback name (localhost, 127.0.0.1, [::1])";

    /** What a refused read is told while no token is set: no token it brings can match. */
    static final String READ_NEEDS_TOKEN_SET = "reads from another host (or through a proxy) need admin.token, and none is "
            + "set here: set admin.token and send it as Authorization: Bearer <admin.token>, or read from this host by a "
            + "loopback name (localhost, 127.0.0.1, [::1])";

    /**
     * Whether the read is refused ({@link #mayRead}), its refusal then answered: 401 while a token is set (bring it),
     * 403 while none is, as a release is. A 401 with no token set (an admin address on 0.0.0.0 under {@code docker run
     * -p}, the browser's connection from the bridge) had the console say "type the admin token", and refuse every one
     * typed, for good.
     */
    static boolean refusesRead(HttpExchange exchange, byte[] token) throws IOException {
        if (mayRead(exchange, token)) {
            return false;
        }
        AdminEvents.answer(exchange, token == null ? 403 : 401,
                Map.of("error", token == null ? READ_NEEDS_TOKEN_SET : READ_NEEDS_TOKEN));
        return true;
    }

    /**
     * Whether a {@code Host} header names the loopback: {@code localhost} (and its subdomains, which
     * never leave the host), an address of 127.0.0.0/8 or {@code [::1]}, with or without a port. A
     * client that sends no {@code Host} is not a browser, which always does.
     */
    static boolean namesLoopback(String host) {
        if (host == null) {
            return true;
        }
        String name = host.strip().toLowerCase(java.util.Locale.ROOT);
        if (name.startsWith("[")) {
            int close = name.indexOf(']');
            return close > 0 && name.substring(1, close).equals("::1") && (close == name.length() - 1 || name.charAt(close + 1) == ':');
        }
        int colon = name.indexOf(':');
        if (colon >= 0) {
            name = name.substring(0, colon);
        }
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name.equals("localhost") || name.endsWith(".localhost") || name.matches("127(\\.\\d{1,3}){3}");
    }
}
