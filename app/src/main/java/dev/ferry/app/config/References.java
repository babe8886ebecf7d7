package dev.ferry.app.config;

/**
 * The environment references of a configuration value: {@code ${NAME}} and {@code ${NAME:-default}} are read; every
 * other form is refused rather than kept as text (a secret anyone could read in the repository, a match that never
 * matches), but a reference of a config provider a Kafka {@code properties} map names, which is Kafka's to read.
 */
final class References {

    private References() {
    }

    /** A value that is only {@code $NAME} or {@code $(NAME)}: a shell's or Kubernetes' way, not read here. */
    private static final java.util.regex.Pattern OTHER_REFERENCE =
            java.util.regex.Pattern.compile("\\$(?:([A-Za-z_][A-Za-z0-9_]*)|\\(([A-Za-z_][A-Za-z0-9_]*)\\))");

    /**
     * A shell's other forms of a reference — {@code ${NAME:?msg}}, {@code ${NAME-x}}, {@code ${NAME:=x}}, {@code ${NAME+x}}
     * — which Ferry does not read. A {@code ${word:...}} that is not one of them is refused too, but in a Kafka source's
     * or sink's {@code properties}: there a config provider's {@code ${file:/path:key}}, {@code ${env:PW}} is Kafka's.
     */
    private static final java.util.regex.Pattern SHELL_FORM =
            java.util.regex.Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_]*(?::?[?=+-])");
    /** A Kafka config provider's reference, {@code ${file:/path:key}}, {@code ${env:PW}}: text for Kafka, in its properties. */
    private static final java.util.regex.Pattern PROVIDER =
            java.util.regex.Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_.-]*):(?![?=+-])[^}]+}");
    /** In a default, another reference of Ferry's own form (${B}, ${B:-x}), cut short where the default ends. */
    private static final java.util.regex.Pattern NESTED =
            java.util.regex.Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_]*(?::-.*)?$");

    /**
     * The config providers a Kafka {@code properties} map names ({@code config.providers: file,env}): only their
     * references pass as text — Spring's {@code ${BROKERS:localhost:9092}} has a provider's shape, and Kafka leaves a
     * reference to a provider it does not have as it is (a password sent as the text).
     */
    static java.util.Set<String> providers(org.snakeyaml.engine.v2.nodes.MappingNode map) {
        for (var t : map.getValue()) {
            if (t.getKeyNode() instanceof org.snakeyaml.engine.v2.nodes.ScalarNode k && k.getValue().equals("config.providers")
                    && t.getValueNode() instanceof org.snakeyaml.engine.v2.nodes.ScalarNode v) {
                var names = new java.util.HashSet<String>();
                for (String name : v.getValue().split(",")) {
                    if (!name.isBlank()) {
                        names.add(name.strip());
                    }
                }
                return names;
            }
        }
        return java.util.Set.of();
    }

    /**
     * Values compared exactly — a SenderId, a topic, a route's sink, a queue — whose variable's whitespace matched
     * nothing: {@code allowed-senders: ["${MTURK_SENDER_ID}"]} from a Secret made {@code --from-file} kept the file's
     * newline, passed {@code validate}, and every real notification was dead-lettered as a foreign sender's. (A blank
     * one is refused where it is read: Section's BLANK_REFUSED, a route's type.)
     */
    private static final java.util.Set<String> COMPARED_EXACTLY = java.util.Set.of("allowed-senders", "topics", "to", "queue");
    /** In a route's {@code match}: a type "Orders\n" from a variable matched no event (dead-lettered as unmatched). */
    private static final java.util.Set<String> MATCHED_EXACTLY =
            java.util.Set.of("type", "types", "type-prefix", "not-types", "attributes");

    /** A variable whose value is at an end of the filled-in value, and the whitespace that value has at that end. */
    private record Edge(String variable, String whitespace) {
    }

    /**
     * {@code value} with its references filled in; {@code key} is what holds it, in the section at {@code section},
     * {@code providers} the config providers of the Kafka {@code properties} map it is in (their references pass through
     * as text), or none. What cannot be read is told to {@code error}, and the value is kept. A value compared exactly
     * whose variable put whitespace at its start or end is refused, not stripped: whitespace written in the file (a
     * default's too) is the writer's, and meant; a value that is only whitespace is blank, and said so where it is read.
     * Judged here, where each variable is read: a second reading of the value restated the default's rule, and ran only
     * when the reader's list of errors had not grown, which a problem said already (not listed twice) left as it was.
     */
    static String substitute(String section, String key, String value, java.util.function.Function<String, String> env,
                             java.util.function.Consumer<String> error, java.util.Set<String> providers) {
        var other = OTHER_REFERENCE.matcher(value.strip());
        if (other.matches()) {
            String name = other.group(1) != null ? other.group(1) : other.group(2);
            if (env.apply(name) != null) { // a token taken as the text "$INGEST_TOKEN": a secret anyone can guess
                error.accept("'" + value.strip() + "' is taken as it is written, not as the variable " + name + "; write ${"
                        + name + "}");
                return value;
            }
        }
        var m = ConfigReader.ENV.matcher(value);
        String rest = ConfigReader.ENV.matcher(value).replaceAll("");
        if (!providers.isEmpty()) { // Kafka's own ${aws-secrets:path:key}, of a provider it names: not a shell's ${NAME-x}
            rest = PROVIDER.matcher(rest).replaceAll(r -> providers.contains(r.group(1)) ? ""
                    : java.util.regex.Matcher.quoteReplacement(r.group()));
        }
        if (SHELL_FORM.matcher(rest).find() || rest.contains("${")) { // kept as text
            // before: ${TOKEN:changeme} (Spring's default), ${ TOKEN }, ${{ secrets.X }} — a secret anyone could read in
            // the repository, a route's match that never matched. A Kafka config provider's ${file:...} in properties
            // is Kafka's to read
            error.accept("'" + value + "' holds a ${...} Ferry does not read: only ${NAME} and ${NAME:-default} are (a "
                    + "value that holds ${ itself goes through a variable: ${NAME})");
            return value;
        }
        var sb = new StringBuilder();
        boolean unset = false;
        Edge start = null; // null while nothing is filled in, or when the file's text (a default's too) starts the value
        Edge end = null;
        int from = 0; // where the file's text after the last reference starts
        while (m.find()) {
            if (m.group(2) != null && NESTED.matcher(m.group(2)).find()) { // ${A:-${B}}: read as "${B" and a "}" left over
                error.accept("'" + value + "': a default holding another ${...} is not read; give the default as text");
                return value;
            }
            String v = env.apply(m.group(1));
            boolean fromTheVariable = true;
            if (v == null || v.isEmpty() && m.group(2) != null) {
                v = m.group(2); // as the shell: ${VAR:-default} when VAR is unset or empty (SQS_ENDPOINT= in a .env)
                fromTheVariable = false; // a default is written in the file: its whitespace is meant
            }
            if (v == null) {
                error.accept("environment variable " + m.group(1) + " is not set (write ${" + m.group(1)
                        + ":-default} for a default)");
                unset = true;
                v = "";
            }
            boolean started = sb.length() > 0 || m.start() > from; // something filled in or written before it
            if (m.start() > from) {
                end = null; // the file's text comes after the last variable: the value does not end in it
            }
            if (!v.isEmpty()) { // an empty value is at no edge: what is beside it is
                if (!started) {
                    start = fromTheVariable
                            ? new Edge(m.group(1), v.substring(0, v.length() - v.stripLeading().length())) : null;
                }
                end = fromTheVariable ? new Edge(m.group(1), v.substring(v.stripTrailing().length())) : null;
            }
            m.appendReplacement(sb, java.util.regex.Matcher.quoteReplacement(v));
            from = m.end();
        }
        m.appendTail(sb);
        if (from < value.length()) {
            end = null;
        }
        String filledIn = sb.toString();
        boolean compared = COMPARED_EXACTLY.contains(key) || section.endsWith(".match") && MATCHED_EXACTLY.contains(key);
        if (!unset && compared && !filledIn.isBlank()) { // an unset variable is said already, its value not filled in
            refuseEdge(value, start, end, error);
        }
        return filledIn;
    }

    /** Tells {@code error} of the variable that puts whitespace at the value's start, else at its end, if one does. */
    private static void refuseEdge(String written, Edge start, Edge end, java.util.function.Consumer<String> error) {
        boolean leading = start != null && !start.whitespace().isEmpty();
        var edge = leading ? start : end;
        if (edge != null && !edge.whitespace().isEmpty()) {
            // the whitespace alone is shown, not the value: an attribute matched may be a shared token
            error.accept("'" + written + "': the variable " + edge.variable() + " puts " + shown(edge.whitespace())
                    + " at the value's " + (leading ? "start" : "end") + ", which is kept, and no name compared exactly "
                    + "has it (a Secret made --from-file keeps the file's newline); take it out of the variable");
        }
    }

    /** {@code text} quoted, its whitespace but a space written as an escape: a newline would break the message's line. */
    private static String shown(String text) {
        var sb = new StringBuilder("\"");
        text.codePoints().forEach(c -> sb.append(switch (c) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> c != ' ' && Character.isWhitespace(c) ? "\\u%04x".formatted(c) : Character.toString(c);
        }));
        return sb.append('"').toString();
    }
}
