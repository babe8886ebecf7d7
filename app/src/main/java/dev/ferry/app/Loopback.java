package dev.ferry.app;

/** Where a command on this machine reaches a Ferry listening on an address. */
final class Loopback {

    private Loopback() {
    }

    /**
     * {@code host} as a URI's host: a wildcard (every interface) as 127.0.0.1, an IPv6 literal in brackets —
     * once, whether the configuration wrote it with them ({@code [::1]}) or not. Written {@code [::1]} in
     * {@code admin.listen}, the host came out as {@code [[::1]]} and every {@code ferry groups} and
     * {@code ferry events} command failed on it.
     */
    static String uriHost(String host) {
        String bare = host.length() > 1 && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (bare.equals("0.0.0.0") || bare.equals("::") || bare.equals("0:0:0:0:0:0:0:0")) {
            return "127.0.0.1"; // a socket on :: takes IPv4 too (Java's are dual-stack), and a host may have no ::1
        }
        return bare.contains(":") ? "[" + bare + "]" : bare;
    }
}
