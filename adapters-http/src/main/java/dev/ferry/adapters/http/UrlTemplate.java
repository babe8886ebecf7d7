package dev.ferry.adapters.http;

import dev.ferry.domain.model.Event;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A target URL with placeholders filled from the event: {@code {key}}, {@code {type}},
 * {@code {group}} and {@code {attr.NAME}}, each percent-encoded. Checked when built, so a typo
 * in a placeholder fails at start-up, not per message.
 */
final class UrlTemplate {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^}]*)}");

    private final String template;
    private final List<String> literals = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    /**
     * Per placeholder, whether it is in the path (no literal {@code ?} or {@code #} before it): there an empty value
     * or {@code ..} moves the request.
     */
    private final List<Boolean> inPath = new ArrayList<>();
    /** The URI itself when there is nothing to fill in: parsed once. */
    private final URI fixed;

    UrlTemplate(String template) {
        this.template = template;
        var m = PLACEHOLDER.matcher(template);
        int at = 0;
        boolean pathSoFar = true;
        while (m.find()) {
            String name = m.group(1);
            if (!name.equals("key") && !name.equals("type") && !name.equals("group") && !name.startsWith("attr.")) {
                // the url is shown redacted: a webhook's secret is in its path or query (#16)
                throw new IllegalArgumentException("url '" + Redact.url(template) + "': unknown placeholder {" + name
                        + "}; use {key}, {type}, {group} or {attr.NAME}");
            }
            int schemeEnd = template.indexOf("://");
            int pathStart = schemeEnd < 0 ? -1 : template.indexOf('/', schemeEnd + 3);
            if (pathStart < 0 || m.start() < pathStart) {
                // an event choosing the host would choose who gets the payload and the bearer token
                throw new IllegalArgumentException("url '" + Redact.url(template) + "': placeholder {" + name
                        + "} before the path; the scheme, host and port are fixed, placeholders go in the path or query");
            }
            String literal = template.substring(at, m.start());
            literals.add(literal);
            names.add(name);
            // the literal text only: a '?' in an earlier {attr.NAME} (a Kafka header may be named so) is no query, and
            // reading it as one let this placeholder's '..' or empty value through to the path
            pathSoFar = pathSoFar && literal.indexOf('?') < 0 && literal.indexOf('#') < 0;
            inPath.add(pathSoFar);
            at = m.end();
        }
        literals.add(template.substring(at));
        var probe = expandWith(name -> "x");
        if (!probe.startsWith("http://") && !probe.startsWith("https://")) {
            throw new IllegalArgumentException("url '" + Redact.url(template) + "' must start with http:// or https://");
        }
        try {
            if (new URI(probe).getHost() == null) {
                // a name with '_' (a Docker Compose service) parses as a registry authority: the JDK's client refuses it
                // on every event, each then retried and dead-lettered
                throw new IllegalArgumentException("url '" + Redact.url(template) + "' has no host the HTTP client takes "
                        + "(a host name may hold letters, digits, '-' and '.', not '_')");
            }
        } catch (URISyntaxException e) {
            // URI.create's message quotes the whole url; say where and what without it (#16)
            throw new IllegalArgumentException("url '" + Redact.url(template) + "' is not a valid URL: " + e.getReason()
                    + " at index " + e.getIndex());
        }
        this.fixed = names.isEmpty() ? URI.create(template) : null;
    }

    URI expand(Event event) {
        if (fixed != null) {
            return fixed;
        }
        var values = new String[names.size()];
        for (int i = 0; i < values.length; i++) {
            String name = names.get(i);
            String value = value(name, event);
            values[i] = inPath.get(i) ? fit(name, value) : value == null ? "" : value;
        }
        var next = new int[1];
        String url = expandWith(name -> values[next[0]++]);
        if (url.length() > MAX_URL_CHARS) {
            // servers refuse (414) or, the JDK's among them, close the connection unanswered: waited out as an outage
            throw new IllegalArgumentException("the url filled in for this event is " + url.length() + " characters, over "
                    + MAX_URL_CHARS + " (servers refuse longer request lines): its " + names + " values are too long");
        }
        return URI.create(url);
    }

    /**
     * Who {@code target} — this url filled in for {@code event} ({@link #expand}) — goes to: the url filled in but
     * for the event's own {@code {key}}, which names the event, not its receiver. An outage is timed per receiver
     * ({@link ReceiverOutages}): with {@code /partners/{attr.partner}} each partner has its own, and with
     * {@code /orders/{key}} every event of the endpoint shares one — timed per url, a dead endpoint waited each new
     * event out for a patience of its own. The type, the group and attributes may each choose a receiver: kept.
     */
    String receiver(URI target, Event event) {
        if (!names.contains("key")) {
            return target.toString(); // the url is the receiver (a URI keeps its text: nothing is built)
        }
        return expandWith(name -> {
            if (name.equals("key")) {
                return "";
            }
            String value = value(name, event); // checked by expand already: one in the path has a value
            return value == null ? "" : value;
        });
    }

    private static String value(String name, Event event) {
        return switch (name) {
            case "key" -> event.key();
            case "type" -> event.type();
            case "group" -> event.groupKey();
            default -> event.attributes().get(name.substring(5));
        };
    }

    /** The longest URL a filled-in template may make: what common servers take in a request line (8 KiB). */
    static final int MAX_URL_CHARS = 8_192;

    /**
     * A path placeholder's value, refused when it would move the request elsewhere: missing or empty (the
     * path loses a segment: {@code /tenants//events}), or {@code .} / {@code ..} (a server resolves
     * {@code /tenants/../events} to {@code /events}, another endpoint, which may well answer 2xx) — also as a
     * segment of a value with slashes ({@code ../admin}), which a server may decode before it resolves. In the
     * query, a missing value is an empty parameter, as before.
     */
    private static String fit(String name, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("the url's {" + name + "} has no value for this event");
        }
        // its slashes are sent as %2F, which servers and proxies that decode before they normalise (nginx's proxy_pass
        // with a path, Apache with AllowEncodedSlashes) read as slashes: a dot segment anywhere in it is refused
        for (String segment : value.split("[/\\\\]", -1)) {
            // and "..;x": servlet containers drop a segment's ;parameters before they resolve it
            String bare = segment.indexOf(';') < 0 ? segment : segment.substring(0, segment.indexOf(';'));
            if (bare.equals(".") || bare.equals("..")) {
                throw new IllegalArgumentException("the url's {" + name + "} is '" + value + "', which would point the "
                        + "request at another path");
            }
        }
        return value;
    }

    private String expandWith(java.util.function.Function<String, String> values) {
        if (names.isEmpty()) {
            return template;
        }
        var sb = new StringBuilder(template.length() + 32);
        for (int i = 0; i < names.size(); i++) {
            sb.append(literals.get(i));
            String value = values.apply(names.get(i));
            // half a surrogate pair is no character: encoded, it was '?' (%3F), and "a\uD800", "a\uDBFF" and "a?" put one
            // document — the second event's PUT overwrote the first's. Such a value goes as the sink's own hash of it,
            // as does one spelled like that hash (else the two were one document again)
            if (!dev.ferry.domain.idempotency.LedgerKeys.wellFormed(value) || HeaderValues.OWN_FORM.matcher(value).matches()) {
                value = HeaderValues.boundedKey(value, value);
            }
            sb.append(URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return sb.append(literals.getLast()).toString();
    }

    @Override
    public String toString() {
        return template;
    }
}
