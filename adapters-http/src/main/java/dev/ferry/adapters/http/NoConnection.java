package dev.ferry.adapters.http;

import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Locale;

/**
 * Why an {@link HttpSink}'s call made no connection. The JDK's client throws a ConnectException for a host name that did
 * not resolve and a host or network out of reach too (its cause says which): each was "connection refused", and the
 * operator looked for a closed port while DNS or the route was at fault.
 */
final class NoConnection {

    private NoConnection() {
    }

    /** {@code host name did not resolve}, {@code connection refused}, or {@code could not connect:} and the deepest cause. */
    static String why(Throwable e, URI target) {
        Throwable last = e;
        boolean refused = false;
        int depth = 0;
        for (Throwable t = e; t != null && depth++ < 16; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return "host name did not resolve";
            }
            // the JDK's client says a refused connection as a ConnectException without a message over a
            // ClosedChannelException (21 to 25); another client, or the JDK's synchronous socket, says "refused"
            refused |= t instanceof java.nio.channels.ClosedChannelException || t instanceof ConnectException
                    && dev.ferry.domain.model.Thrown.message(t).toLowerCase(Locale.ROOT).contains("connection refused");
            last = t;
        }
        if (refused) {
            return "connection refused";
        }
        // the deepest cause names it (NoRouteToHostException, SocketException "Network is unreachable"); its message
        // only when it has one (else Thrown gives its class name again)
        String said = dev.ferry.domain.model.Thrown.message(last);
        String message = said.equals(dev.ferry.domain.model.Thrown.describe(last)) ? ""
                : " " + said.replace(target.toString(), Redact.url(target));
        return "could not connect: " + last.getClass().getSimpleName() + message;
    }
}
