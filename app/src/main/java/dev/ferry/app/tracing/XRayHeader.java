package dev.ferry.app.tracing;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;

/**
 * SQS's {@code AWSTraceHeader} system attribute (AWS X-Ray's format,
 * {@code Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1}) as the span
 * context it names. The X-Ray trace id is the W3C one with its dashes and version taken out.
 */
final class XRayHeader {

    private XRayHeader() {
    }

    /** The remote parent the header names, or null when it names none or is malformed. */
    static SpanContext parse(String header) {
        String root = null;
        String parent = null;
        boolean sampled = false;
        for (String part : header.split(";")) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String key = part.substring(0, eq).trim();
            String value = part.substring(eq + 1).trim();
            switch (key) {
                case "Root" -> root = value;
                case "Parent" -> parent = value;
                case "Sampled" -> sampled = "1".equals(value);
                default -> { }
            }
        }
        if (root == null || parent == null) {
            return null;
        }
        var pieces = root.split("-");
        if (pieces.length != 3 || !pieces[0].equals("1") || pieces[1].length() != 8 || pieces[2].length() != 24) {
            return null;
        }
        var context = SpanContext.createFromRemoteParent((pieces[1] + pieces[2]).toLowerCase(java.util.Locale.ROOT),
                parent.toLowerCase(java.util.Locale.ROOT), sampled ? TraceFlags.getSampled() : TraceFlags.getDefault(),
                TraceState.getDefault());
        return context.isValid() ? context : null;
    }
}
