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

    /** Keys whose values are secrets, whatever they are nested under. */
    private static final Pattern SECRET_KEY = Pattern.compile(
            "(?i).*(secret|password|passwd|token|authorization|api[-_]?key|access[-_]?key|credential|private[-_]?key|cookie).*");
    /** {@code scheme://user:password@host}: the password part. */
    private static final Pattern URL_PASSWORD = Pattern.compile("(://[^/:@\\s]+:)([^@/\\s]+)@");
    static final String MASK = "****";

    private ConfigPrinter() {
    }

    /** {@code yaml} resolved and masked, as YAML again. */
    public static String resolved(String yaml, Function<String, String> env) {
        Object tree = new Load(LoadSettings.builder().build()).loadFromString(yaml);
        var settings = DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).setIndent(2).build();
        return new Dump(settings).dumpToString(walk(tree, null, env));
    }

    private static Object walk(Object node, String key, Function<String, String> env) {
        if (node instanceof Map<?, ?> map) {
            var out = new LinkedHashMap<Object, Object>();
            map.forEach((k, v) -> out.put(k, walk(v, String.valueOf(k), env)));
            return out;
        }
        if (node instanceof List<?> list) {
            var out = new ArrayList<>(list.size());
            list.forEach(item -> out.add(walk(item, key, env)));
            return out;
        }
        if (node == null) {
            return null;
        }
        if (key != null && SECRET_KEY.matcher(key).matches()) {
            return MASK;
        }
        if (node instanceof String text) {
            return URL_PASSWORD.matcher(substitute(text, env)).replaceAll("$1" + MASK + "@");
        }
        return node;
    }

    /** {@code ${VAR}} and {@code ${VAR:-default}} replaced as the reader does; an unset variable stays visible. */
    private static String substitute(String value, Function<String, String> env) {
        var m = ConfigReader.ENV.matcher(value);
        var sb = new StringBuilder();
        while (m.find()) {
            String v = env.apply(m.group(1));
            if (v == null) {
                v = m.group(2) != null ? m.group(2) : m.group();
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
