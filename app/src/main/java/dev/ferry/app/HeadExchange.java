package dev.ferry.app;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;

/**
 * A {@code HEAD} request as the admin handlers see it: the GET they answer, its status and headers sent, its body
 * not. The JDK's server takes a HEAD's answer only without a length (it logs a warning for one, then refuses the
 * body's bytes — every handler's write failed, logged with its stack: a HEAD-based uptime check wrote two WARN lines
 * every few seconds, and anyone who reaches the port could flood the log).
 */
final class HeadExchange extends HttpExchange {

    private final HttpExchange head;
    private final AdminRequests requests;

    /** With the deadline of {@code requests} on the headers' write: a HEAD's answer goes to the socket at once. */
    HeadExchange(HttpExchange head, AdminRequests requests) {
        this.head = head;
        this.requests = requests;
    }

    static boolean isHead(HttpExchange exchange) {
        return "HEAD".equalsIgnoreCase(exchange.getRequestMethod());
    }

    @Override
    public void sendResponseHeaders(int code, long length) throws IOException {
        if (length > 0) {
            head.getResponseHeaders().set("Content-Length", Long.toString(length));
        }
        requests.timed(() -> head.sendResponseHeaders(code, -1));
    }

    @Override
    public OutputStream getResponseBody() {
        return OutputStream.nullOutputStream();
    }

    /** The handlers answer a GET: the method they are asked is that one. */
    @Override
    public String getRequestMethod() {
        return "GET";
    }

    @Override
    public Headers getRequestHeaders() {
        return head.getRequestHeaders();
    }

    @Override
    public Headers getResponseHeaders() {
        return head.getResponseHeaders();
    }

    @Override
    public URI getRequestURI() {
        return head.getRequestURI();
    }

    @Override
    public HttpContext getHttpContext() {
        return head.getHttpContext();
    }

    @Override
    public void close() {
        head.close();
    }

    @Override
    public InputStream getRequestBody() {
        return head.getRequestBody();
    }

    @Override
    public InetSocketAddress getRemoteAddress() {
        return head.getRemoteAddress();
    }

    @Override
    public int getResponseCode() {
        return head.getResponseCode();
    }

    @Override
    public InetSocketAddress getLocalAddress() {
        return head.getLocalAddress();
    }

    @Override
    public String getProtocol() {
        return head.getProtocol();
    }

    @Override
    public Object getAttribute(String name) {
        return head.getAttribute(name);
    }

    @Override
    public void setAttribute(String name, Object value) {
        head.setAttribute(name, value);
    }

    @Override
    public void setStreams(InputStream i, OutputStream o) {
        head.setStreams(i, o);
    }

    @Override
    public HttpPrincipal getPrincipal() {
        return head.getPrincipal();
    }
}
