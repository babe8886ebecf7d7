package dev.ferry.codecs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The field table both member readers look names up in: exact names only, however they hash. */
class FieldsTest {

    private static int find(Fields fields, String json, String name) {
        var b = json.getBytes(StandardCharsets.UTF_8);
        int start = json.indexOf('"' + name + '"') + 1;
        return fields.indexOf(b, start, start + name.getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void findsEachName_andNothingThatOnlyLooksLikeOne() {
        var fields = Fields.of("EventType", "EventTimestamp", "MessageAttributes", "a", "ab", "EventTypf");
        var doc = "{\"EventType\": 1, \"EventTimestamp\": 2, \"MessageAttributes\": 3, \"a\": 4, \"ab\": 5, \"EventTypf\": 6,"
                + " \"EventTypeX\": 7, \"EventTimestamq\": 8, \"MessageAttributeZ\": 9, \"b\": 10, \"EventTimestamp\": 11}";
        assertThat(find(fields, doc, "EventType")).isZero();
        assertThat(find(fields, doc, "EventTimestamp")).isEqualTo(1);
        assertThat(find(fields, doc, "MessageAttributes")).isEqualTo(2); // longer than 16 bytes
        assertThat(find(fields, doc, "a")).isEqualTo(3);
        assertThat(find(fields, doc, "ab")).isEqualTo(4);
        assertThat(find(fields, doc, "EventTypf")).isEqualTo(5); // differs from EventType in its 9th byte only
        assertThat(find(fields, doc, "EventTypeX")).isEqualTo(-1);
        assertThat(find(fields, doc, "EventTimestamq")).isEqualTo(-1); // differs in its 14th byte
        assertThat(find(fields, doc, "MessageAttributeZ")).isEqualTo(-1);
        assertThat(find(fields, doc, "b")).isEqualTo(-1);
        assertThat(fields.indexOf("EventTimestamp")).isEqualTo(1);
        assertThat(fields.indexOf("nope")).isEqualTo(-1);
    }

    @Test
    void namesThatHashAlike_areTold_apart_andANameAtTheVeryEndIsRead() {
        // same length, first and last byte: one hash, found by probing
        var fields = Fields.of("axxz", "ayyz", "azzz");
        assertThat(find(fields, "{\"ayyz\":1}", "ayyz")).isEqualTo(1);
        assertThat(find(fields, "{\"azzz\":1}", "azzz")).isEqualTo(2);
        assertThat(find(fields, "{\"awwz\":1}", "awwz")).isEqualTo(-1);
        // fewer than 16 bytes from the name to the end of the body: compared byte by byte
        assertThat(find(fields, "\"axxz\"", "axxz")).isZero();
        assertThat(find(Fields.of(""), "{\"\":1}", "")).isZero();
    }
}
