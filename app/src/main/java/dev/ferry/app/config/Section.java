package dev.ferry.app.config;

import dev.ferry.domain.spi.Settings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/** A mapping in the file, with typed reads that record errors instead of throwing. */
final class Section implements Settings {
    private final ConfigReader reader;
    private final String path;
    private final MappingNode node;
    private final Map<String, Node> values = new LinkedHashMap<>();
    private final Map<String, Node> keyNodes = new LinkedHashMap<>();
    private final Set<String> asked = new LinkedHashSet<>();
    /** Its adapter threw reading it: the keys it did not get to are not called unknown ({@link #reportUnread}). */
    private boolean adapterFailed;
    private String name;

    Section(ConfigReader reader, String path, MappingNode node) {
        this.reader = reader;
        this.path = path;
        this.node = node;
        this.name = path.substring(path.lastIndexOf('.') + 1);
        if (node != null) {
            for (var t : node.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode k) {
                    keyReference(k, at(k.getValue()));
                    if (values.containsKey(k.getValue())) {
                        reader.error(k, at(k.getValue()), "duplicate key (first at line "
                                + ConfigReader.line(keyNodes.get(k.getValue())) + ")");
                    }
                    values.put(k.getValue(), t.getValueNode());
                    keyNodes.put(k.getValue(), k);
                } else { // [concurrency]: 8 — dropped with its value, the default used where the user wrote something
                    reader.error(t.getKeyNode(), path.isEmpty() ? "(root)" : path, "a key must be a single value, not a "
                            + "list or a mapping");
                }
            }
        }
    }

    /**
     * A key is taken as written: one holding {@code ${...}} (a route's attribute "${ATTR}", a source "${STAGE}-orders") was
     * matched by nothing, or named the same in every stage — refused.
     */
    private void keyReference(ScalarNode key, String at) {
        if (key.getValue().contains("${")) {
            reader.error(key, at, "a key is taken as written: ${...} is read in values only");
        }
    }

    private String at(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    Set<String> keys() {
        return values.keySet();
    }

    /** Gives the section the name of what it configures (a source's transport section: the source's name). */
    Section named(String newName) {
        this.name = newName;
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    /** Whether the file writes {@code key} here (a default is not written). */
    boolean has(String key) {
        return values.containsKey(key);
    }

    /** Whether {@code key} is there with no value ({@code ~}, {@code null} or nothing). */
    boolean hasNull(String key) {
        return values.get(key) instanceof ScalarNode s && isNull(s);
    }

    /** The value of {@code key}, remembering that it is a known key. */
    /** The value at {@code key} as written, when it is plain text with no variable in it; else null. Reports nothing. */
    String plain(String key) {
        return value(key) instanceof ScalarNode s && !isNull(s) && !s.getValue().contains("$") ? s.getValue() : null;
    }

    private Node value(String key) {
        asked.add(key);
        return values.get(key);
    }

    void error(String key, String message) {
        reader.error(values.getOrDefault(key, node), at(key), message);
    }

    void errorHere(String message) {
        reader.error(node, path, message);
    }

    @Override
    public void problem(String key, String message) {
        error(key, message);
    }

    /** Every key nobody asked for is unknown: the adapter that owns the section knows its keys. */
    void adapterFailed() {
        adapterFailed = true;
    }

    void reportUnread() {
        for (var key : adapterFailed ? Set.<String>of() : values.keySet()) { // its keys were its reader's to judge
            if (!asked.contains(key)) {
                reader.error(keyNodes.get(key), at(key), "unknown key; expected one of " + List.copyOf(asked));
            }
        }
    }

    void only(String... allowed) {
        var ok = Set.of(allowed);
        for (var key : values.keySet()) {
            if (!ok.contains(key)) {
                reader.error(keyNodes.get(key), at(key), "unknown key; expected one of " + List.of(allowed));
            }
        }
    }

    Section section(String key) {
        var n = value(key);
        if (n == null) {
            return null;
        }
        if (n instanceof MappingNode m) {
            return new Section(reader, at(key), m);
        }
        error(key, "expected a mapping");
        return null;
    }

    Section sectionOrEmpty(String key) {
        var s = section(key);
        return s != null ? s : new Section(reader, at(key), null);
    }

    Map<String, Section> children() {
        var out = new LinkedHashMap<String, Section>();
        for (var key : values.keySet()) {
            var s = section(key);
            if (s != null) {
                out.put(key, s);
            }
        }
        return out;
    }

    /** The items of a list; empty (with an error when it is something else) when not a list. */
    private List<Node> items(String key) {
        var n = value(key);
        if (n == null) {
            return List.of();
        }
        if (!(n instanceof SequenceNode seq)) {
            error(key, "expected a list");
            return List.of();
        }
        return seq.getValue();
    }

    List<Section> sections(String key) {
        var out = new ArrayList<Section>();
        int i = 0;
        for (var item : items(key)) {
            if (item instanceof MappingNode m) {
                out.add(new Section(reader, at(key) + "[" + i + "]", m));
            } else {
                reader.error(item, at(key) + "[" + i + "]", "expected a mapping");
            }
            i++;
        }
        return out;
    }

    @Override
    public String string(String key, String fallback) {
        var n = value(key);
        if (n == null) {
            return fallback;
        }
        if (!(n instanceof ScalarNode s)) {
            error(key, "expected a single value");
            return fallback;
        }
        if (isNull(s)) {
            return fallback; // ~, null or nothing: no value (it was the text "~" or "null": two sources' ledger-scope: ~ shared one)
        }
        return substitute(key, s.getValue());
    }

    /** A YAML null (the core schema's) — {@code ~}, {@code null} or nothing, unquoted; a quoted {@code "null"} is text. */
    private static boolean isNull(ScalarNode s) {
        return s.isPlain() && switch (s.getValue()) {
            case "", "~", "null", "Null", "NULL" -> true;
            default -> false;
        };
    }

    @Override
    public String required(String key) {
        String v = string(key, null);
        if (v == null || v.isBlank()) {
            if (!values.containsKey(key)) {
                reader.error(node, at(key), "missing");
            } else {
                error(key, "must not be empty");
            }
        }
        return v;
    }

    @Override
    public String oneOf(String key, String fallback, Set<String> allowed) {
        String v = fallback == null ? required(key) : string(key, fallback);
        if (v != null && !allowed.contains(v)) {
            error(key, "'" + v + "' is not one of " + allowed.stream().sorted().toList());
        }
        return v;
    }

    @Override
    public int integer(String key, int fallback, int min, int max) {
        String v = string(key, null);
        if (v == null) {
            return fallback;
        }
        try {
            int i = Integer.parseInt(v.trim());
            if (i < min || i > max) {
                error(key, "must be " + min + ".." + max + ", was " + i);
                return fallback;
            }
            return i;
        } catch (NumberFormatException e) {
            error(key, "expected a whole number, was '" + v + "'");
            return fallback;
        }
    }

    /** The longest duration a setting takes: "never" in practice, and still countable in nanoseconds. */
    static final Duration MAX_DURATION = Duration.ofDays(36_500);

    @Override
    public Duration duration(String key, Duration fallback) {
        String v = string(key, null);
        if (v == null) {
            return fallback;
        }
        var parsed = AppSections.parseDuration(v);
        if (parsed == null) {
            error(key, "expected a duration like 500ms, 30s, 1m30s, 2h or 7d (or ISO-8601 such as PT1M30S), was '" + v + "'");
            return fallback;
        }
        if (parsed.compareTo(MAX_DURATION) > 0) {
            // past ~292 years a duration no longer fits the nanoseconds the listener and the health checks count in
            error(key, "at most 36500d (100 years), was " + v.trim());
            return fallback;
        }
        return parsed;
    }

    /** Lists and maps whose blank value from an empty variable is an error: a sender, a sink, a topic, a route's attribute. */
    private static final java.util.Set<String> BLANK_REFUSED = java.util.Set.of("allowed-senders", "to", "topics", "attributes");

    @Override
    public List<String> strings(String key) {
        var out = new ArrayList<String>();
        for (var item : items(key)) {
            if (item instanceof ScalarNode s && isNull(s)) { // "~" or "" taken as text: a list item no one meant
                reader.error(item, at(key), "a list item needs a value (~, null or nothing is no value)");
            } else if (item instanceof ScalarNode s) {
                int before = reader.errors.size();
                String v = substitute(key, s.getValue());
                if (!v.isBlank() || !BLANK_REFUSED.contains(key)) {
                    out.add(v); // elsewhere a blank item is the list's to judge: a plugin's, a not-types "${EXTRA:-}"
                } else if (reader.errors.size() == before) { // an unset variable is said already
                    // allowed-senders: ["${MTURK_SENDER_ID}"] with the variable set but empty allowed the sender "":
                    // the file passed, and every real notification was dead-lettered as a foreign sender's
                    reader.error(item, at(key), "a list item must not be empty or blank"
                            + (v.equals(s.getValue()) ? "" : " ('" + s.getValue() + "' gave '" + v + "')"));
                }
            } else {
                reader.error(item, at(key), "expected a single value in the list");
            }
        }
        return out;
    }

    @Override
    public InetSocketAddress hostPort(String key, String fallback) {
        String v = string(key, fallback);
        if (v == null) {
            return null; // left out, and no fallback: as the test kit's settings answer (a plugin's optional address)
        }
        int colon = v.lastIndexOf(':');
        try {
            int port = Integer.parseInt(v.substring(colon + 1));
            String host = v.substring(0, colon);
            if (host.isEmpty() || port < 0 || port > 65_535) {
                throw new IllegalArgumentException();
            }
            return InetSocketAddress.createUnresolved(host, port);
        } catch (RuntimeException e) {
            error(key, "expected HOST:PORT such as " + (fallback != null ? fallback : "127.0.0.1:8080") + ", was '" + v + "'");
            return InetSocketAddress.createUnresolved("127.0.0.1", 0); // the file is refused for the error; never used
        }
    }

    @Override
    public boolean flag(String key, boolean fallback) {
        String v = string(key, null);
        if (v == null) {
            return fallback;
        }
        return switch (v.trim()) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> {
                error(key, "expected true or false, was '" + v + "'");
                yield fallback;
            }
        };
    }

    @Override
    public Map<String, String> map(String key) {
        var n = value(key);
        var out = new LinkedHashMap<String, String>();
        if (n == null) {
            return out;
        }
        if (!(n instanceof MappingNode m)) {
            error(key, "expected a mapping of NAME: VALUE");
            return out;
        }
        var lines = new java.util.HashMap<String, Integer>();
        var providers = key.equals("properties") ? References.providers(m) : Set.<String>of();
        for (var t : m.getValue()) {
            if (t.getKeyNode() instanceof ScalarNode k && t.getValueNode() instanceof ScalarNode v) {
                keyReference(k, at(key) + "." + k.getValue());
                var first = lines.putIfAbsent(k.getValue(), ConfigReader.line(k));
                if (first != null) { // {env: prod, env: dev} would quietly be dev
                    reader.error(k, at(key) + "." + k.getValue(), "duplicate key (first at line " + first + ")");
                }
                if (isNull(v)) { // {tenant: } matched only the text "" (no event), a header went out as "~"
                    reader.error(v, at(key) + "." + k.getValue(), "needs a value (~, null or nothing is no value; "
                            + "quote \"\" for an empty one); leave " + k.getValue() + " out to say there is none");
                    continue;
                }
                String value = substitute(key, v.getValue(), providers); // a route's {tenant: "${T}"}, T empty: matched none
                if (value.isBlank() && !value.equals(v.getValue()) && BLANK_REFUSED.contains(key)) { // "" quoted is one
                    reader.error(v, at(key) + "." + k.getValue(), "is blank ('" + v.getValue() + "' gave '" + value + "')");
                }
                out.put(k.getValue(), value);
            } else {
                reader.error(t.getKeyNode(), at(key), "expected NAME: VALUE with single values");
            }
        }
        return out;
    }

    private String substitute(String key, String value) {
        return substitute(key, value, Set.of());
    }

    private String substitute(String key, String value, Set<String> providers) {
        return References.substitute(path, key, value, reader.env, message -> error(key, message), providers);
    }
}
