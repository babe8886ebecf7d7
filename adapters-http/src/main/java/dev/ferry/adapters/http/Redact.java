package dev.ferry.adapters.http;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * URLs as they may be printed. Webhook URLs carry their secret in the user-info, the path or the
 * query ({@code https://hooks.example.com/services/T0/B0/XXXX}, {@code ?token=...}), and a reason
 * ends up in logs and in the DLQ's message attributes, which many more people can read than the
 * configuration. So only {@code scheme://host[:port]} is shown, with {@code /…} when there was more.
 */
final class Redact {

    /** What is printed in place of a path, a query or a fragment. */
    static final String MORE = "/\u2026";

    /** scheme://authority rest, for what {@link URI} will not parse (a template with placeholders, a bad Location). */
    private static final Pattern LOOSE = Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)", Pattern.DOTALL);

    private Redact() {
    }

    /** {@code scheme://host[:port]}, plus {@code /…} when the URL has a path, a query or a fragment. */
    static String url(URI uri) {
        if (uri == null) {
            return "(no url)";
        }
        if (uri.isOpaque()) {
            // mailto:..., urn:...: everything after the scheme may be the secret
            return uri.getScheme() + ":" + MORE.substring(1);
        }
        String path = uri.getRawPath();
        boolean more = (path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null
                || uri.getRawFragment() != null;
        if (uri.getScheme() == null) {
            // a relative Location: its path alone may be the secret
            return more ? MORE : "/";
        }
        String authority;
        if (uri.getHost() != null) {
            authority = uri.getHost() + (uri.getPort() == -1 ? "" : ":" + uri.getPort());
        } else {
            // a registry-based authority (e.g. a host name with '_'): drop the user-info by hand
            authority = withoutUserInfo(uri.getRawAuthority() == null ? "" : uri.getRawAuthority());
        }
        return uri.getScheme() + "://" + authority + (more ? MORE : "");
    }

    /** As {@link #url(URI)}, for text that may not even parse as a URI (a template, a header). */
    static String url(String text) {
        if (text == null) {
            return "(no url)";
        }
        try {
            return url(new URI(text.strip()));
        } catch (URISyntaxException e) {
            var m = LOOSE.matcher(text.strip());
            if (!m.matches()) {
                return "(not a url)";
            }
            String rest = m.group(3);
            return m.group(1) + "://" + withoutUserInfo(m.group(2)) + (rest.isEmpty() || rest.equals("/") ? "" : MORE);
        }
    }

    private static String withoutUserInfo(String authority) {
        int at = authority.lastIndexOf('@');
        return at < 0 ? authority : authority.substring(at + 1);
    }
}
