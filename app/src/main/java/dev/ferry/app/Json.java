package dev.ferry.app;

import java.util.List;
import java.util.Map;

/**
 * Writes the small JSON documents the admin endpoints answer with: maps, lists, strings, numbers,
 * booleans; and reads them back (for the CLI that asks a running Ferry).
 */
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

    /** Reads a JSON document into maps (in order), lists, strings, longs or doubles, booleans and nulls. */
    public static Object parse(String json) {
        try (var parser = new com.fasterxml.jackson.core.JsonFactory().createParser(json)) {
            parser.nextToken();
            var value = read(parser);
            if (parser.nextToken() != null) {
                throw new IllegalArgumentException("more after the JSON value at " + parser.currentLocation());
            }
            return value;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
    }

    private static Object read(com.fasterxml.jackson.core.JsonParser p) throws java.io.IOException {
        return switch (p.currentToken()) {
            case START_OBJECT -> {
                var map = new java.util.LinkedHashMap<String, Object>();
                while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    map.put(name, read(p));
                }
                yield map;
            }
            case START_ARRAY -> {
                var list = new java.util.ArrayList<Object>();
                while (p.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
                    list.add(read(p));
                }
                yield list;
            }
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT -> p.getLongValue();
            case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
            case VALUE_TRUE -> true;
            case VALUE_FALSE -> false;
            case VALUE_NULL -> null;
            default -> throw new IllegalArgumentException("unexpected " + p.currentToken() + " at " + p.currentLocation());
        };
    }
}
