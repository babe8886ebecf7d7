package dev.ferry.app;

import java.util.List;
import java.util.Map;

/** Writes the small JSON documents the admin endpoints answer with: maps, lists, strings, numbers, booleans. */
public final class Json {

    private Json() {
    }

    public static String write(Object value) {
        var sb = new StringBuilder(256);
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object value) {
        switch (value) {
            case null -> sb.append("null");
            case String s -> dev.ferry.app.logging.JsonLineLayout.string(sb, s);
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            case Map<?, ?> map -> {
                sb.append('{');
                boolean first = true;
                for (var e : map.entrySet()) {
                    if (!first) {
                        sb.append(',');
                    }
                    first = false;
                    dev.ferry.app.logging.JsonLineLayout.string(sb, String.valueOf(e.getKey()));
                    sb.append(':');
                    write(sb, e.getValue());
                }
                sb.append('}');
            }
            case List<?> list -> {
                sb.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    write(sb, list.get(i));
                }
                sb.append(']');
            }
            default -> dev.ferry.app.logging.JsonLineLayout.string(sb, value.toString());
        }
    }
}
