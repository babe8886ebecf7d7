package dev.ferry.app.config;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Tags a configuration may not carry. A tag such as {@code !ENV NAME} or {@code !secret name} (other tools' ways to read
 * a variable) was dropped without a word, and the value read as the text after it: a token became its variable's name.
 */
final class YamlTags {

    private static final String CORE = "tag:yaml.org,2002:";
    private static final String ENV = org.snakeyaml.engine.v2.nodes.Tag.ENV_TAG.getValue();
    private static final Set<String> READ = Set.of("str", "int", "float", "bool", "null", "map", "seq", "merge");

    private YamlTags() {
    }

    /** Reports each node with a tag this reader does not read, once per node (an alias is one node). */
    static void check(Node root, ConfigReader reader) {
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        var left = new ArrayDeque<Node>();
        left.push(root);
        while (!left.isEmpty()) {
            var node = left.pop();
            if (!seen.add(node)) {
                continue;
            }
            String tag = node.getTag().getValue();
            boolean read = tag.startsWith(CORE) && READ.contains(tag.substring(CORE.length()))
                    // the parser's own for a plain ${NAME}, which this reader substitutes
                    || tag.equals(ENV) && node instanceof ScalarNode v && v.getValue().contains("${");
            if (!read) {
                reader.error(node, "(yaml)", "the tag " + tag + " is not read here (the value would be taken as the "
                        + "text after it); write ${NAME} for an environment variable");
            }
            if (node instanceof MappingNode m) {
                for (var t : m.getValue()) {
                    left.push(t.getValueNode());
                    left.push(t.getKeyNode());
                }
            } else if (node instanceof SequenceNode s) {
                s.getValue().forEach(left::push);
            }
        }
    }
}
