package dev.ferry.app.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;

/**
 * The configuration as Ferry reads it, for {@code ferry config print}: every {@code ${VAR}} resolved
 * from the environment, every secret masked, comments dropped.
 */
public final class ConfigPrinter {

    /** Keys whose values (and everything under them) are secrets, whatever they are nested under. */
    private static final Pattern SECRET_KEY = Pattern.compile("(?i).*(secret|password|passwd|pwd|token|authorization|"
            + "api[-_.]?key|access[-_.]?key|credential|private[-_.]?key|cookie|jaas|sasl|user[-_.]?info).*"
            + "|(?i).*[-_.]key"); // ssl.keystore.key (a PEM key), signing-key, ...
    /** {@code scheme://userinfo@host}: all of the user info, whatever it holds (a {@code /} or {@code @} too). */
    private static final Pattern URL_USERINFO = Pattern.compile("(?<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?<info>[^/?#\\s]*@)");
    /** A query parameter whose value is a credential: {@code ?api_key=}, {@code &sig=}, {@code &X-Amz-Signature=}. */
    private static final Pattern QUERY_SECRET = Pattern.compile(
            "(?i)([?&](?:[^=&#\\s]*(?:key|token|secret|sig|signature|password|auth|credential)[^=&#\\s]*)=)[^&#\\s]*");
    /**
     * A value that is an http(s) URL: scheme, authority, and all that follows. Webhooks keep their secret
     * in the path ({@code /services/T0/B0/XXXX}, {@code /api/webhooks/ID/TOKEN}) or in any query parameter.
     */
    private static final Pattern HTTP_URL = Pattern.compile("(?is)(https?://)([^/?#]*)(.*)");
    /** {@code password=...} or {@code password="..."} inside a value (a JAAS line, a JDBC URL). */
    private static final Pattern INLINE_SECRET = Pattern.compile(
            "(?i)((?:password|passwd|pwd|secret|token)\\s*[=:]\\s*)(\"[^\"]*\"|'[^']*'|[^\\s;,&]+)");
    static final String MASK = "****";

    private ConfigPrinter() {
    }

    /** {@code yaml} resolved and masked, as YAML again. */
    public static String resolved(String yaml, Function<String, String> env) {
        Object tree = new Load(LoadSettings.builder().build()).loadFromString(yaml);
        var secrets = new java.util.HashSet<String>();
        collectSecrets(tree, false, env, secrets); // an alias (*name) of a secret elsewhere is masked too
        var settings = DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).setIndent(2).build();
        return new Dump(settings).dumpToString(walk(tree, null, env, secrets));
    }

    /**
     * The headers of an HTTP sink whose values say nothing secret; every other header's value is masked whatever its
     * name: an API key goes under names no pattern knows ({@code X-Honeycomb-Team}, {@code X-Auth}, {@code X-Sentry-Auth}).
     */
    private static final java.util.Set<String> PLAIN_HEADERS = java.util.Set.of("content-type", "accept", "user-agent");

    private static boolean secretHeader(String parentKey, Object header) {
        return "headers".equals(parentKey)
                && !PLAIN_HEADERS.contains(String.valueOf(header).toLowerCase(java.util.Locale.ROOT));
    }

    private static void collectSecrets(Object node, boolean secret, Function<String, String> env, java.util.Set<String> into) {
        if (node instanceof Map<?, ?> map) {
            // a header's value is masked where it is (walk), not everywhere it is spelled: X-Team: payments masked a
            // queue named payments. What a secret's own key names is, wherever it is spelled
            map.forEach((k, v) -> collectSecrets(v, secret || SECRET_KEY.matcher(String.valueOf(k)).matches(), env, into));
        } else if (node instanceof List<?> list) {
            list.forEach(item -> collectSecrets(item, secret, env, into));
        } else if (secret && node != null) {
            String value = node instanceof String text ? substitute(text, env) : String.valueOf(node);
            if (value.length() >= 4) {
                into.add(value);
            }
        }
    }

    private static Object walk(Object node, String key, Function<String, String> env, java.util.Set<String> secrets) {
        if (node == null) {
            return null;
        }
        if (key != null && SECRET_KEY.matcher(key).matches()) {
            return MASK; // the whole subtree: a map of credentials, a list of tokens
        }
        if (node instanceof Map<?, ?> map) {
            var out = new LinkedHashMap<Object, Object>();
            map.forEach((k, v) -> out.put(k, secretHeader(key, k) ? MASK : walk(v, String.valueOf(k), env, secrets)));
            return out;
        }
        if (node instanceof List<?> list) {
            var out = new ArrayList<>(list.size());
            list.forEach(item -> out.add(walk(item, null, env, secrets)));
            return out;
        }
        if (node instanceof String text) {
            String value = substitute(text, env);
            if (secrets.contains(value) || value.contains("PRIVATE KEY-----")) { // a PEM key under any name
                return MASK;
            }
            var url = HTTP_URL.matcher(value.strip());
            if (url.matches() && !pathSaysNothingSecret(url.group(2))) {
                return redacted(url);
            }
            value = URL_USERINFO.matcher(value).replaceAll("${scheme}" + MASK + "@");
            value = QUERY_SECRET.matcher(value).replaceAll("$1" + MASK);
            return INLINE_SECRET.matcher(value).replaceAll("$1" + MASK);
        }
        return secrets.contains(String.valueOf(node)) ? MASK : node;
    }

    /**
     * An AWS endpoint's path names a resource (an SQS queue URL's account and queue), and a loopback one is this
     * machine's: shown whole, so what a {@code ${VAR}} resolved to can be checked — their user-info and credential
     * query parameters masked as in any value. Any other host's path may be the credential (a webhook's).
     */
    private static boolean pathSaysNothingSecret(String authority) {
        String host = authority.substring(authority.lastIndexOf('@') + 1).toLowerCase(java.util.Locale.ROOT);
        int port = host.lastIndexOf(':');
        if (port > host.lastIndexOf(']')) {
            host = host.substring(0, port);
        }
        return host.endsWith(".amazonaws.com") || host.endsWith(".amazonaws.com.cn") || host.equals("localhost")
                || host.equals("127.0.0.1") || host.equals("[::1]");
    }

    /**
     * {@code scheme://host[:port]}, plus {@code /…} when there was a path, a query or a fragment: the
     * form the HTTP adapter prints URLs in ({@code Redact.url}, which the app cannot reach), so the
     * same sink reads the same here and in its logs.
     */
    private static String redacted(Matcher url) {
        String authority = url.group(2);
        authority = authority.substring(authority.lastIndexOf('@') + 1); // the user-info, whatever it holds
        String rest = url.group(3);
        return url.group(1) + authority + (rest.isEmpty() || rest.equals("/") ? "" : "/\u2026");
    }

    /** {@code ${VAR}} and {@code ${VAR:-default}} replaced as the reader does; an unset variable stays visible. */
    private static String substitute(String value, Function<String, String> env) {
        var m = ConfigReader.ENV.matcher(value);
        var sb = new StringBuilder();
        while (m.find()) {
            String v = env.apply(m.group(1));
            if (v == null || v.isEmpty() && m.group(2) != null) {
                v = m.group(2) != null ? m.group(2) : m.group();
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
