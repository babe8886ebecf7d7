package dev.ferry.codecs;

/**
 * Bounds on what a decoder reads, so a hostile body cannot exhaust memory or time.
 *
 * @param maxBodyBytes    largest body accepted (SQS allows 1 MiB)
 * @param maxDepth        deepest nesting of objects and arrays
 * @param maxStringLength longest string value, in characters
 * @param maxNumberLength longest number literal, in characters
 */
public record JsonLimits(int maxBodyBytes, int maxDepth, int maxStringLength, int maxNumberLength) {

    public JsonLimits {
        positive("maxBodyBytes", maxBodyBytes);
        positive("maxDepth", maxDepth);
        positive("maxStringLength", maxStringLength);
        positive("maxNumberLength", maxNumberLength);
    }

    /** 1 MiB bodies, 64 levels, 256 KiB strings, 64-digit numbers. */
    public static JsonLimits defaults() {
        return new JsonLimits(1 << 20, 64, 256 * 1024, 64);
    }

    public JsonLimits withMaxBodyBytes(int bytes) {
        return new JsonLimits(bytes, maxDepth, maxStringLength, maxNumberLength);
    }

    public JsonLimits withMaxDepth(int depth) {
        return new JsonLimits(maxBodyBytes, depth, maxStringLength, maxNumberLength);
    }

    private static void positive(String field, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(field + " must be >= 1, was " + value);
        }
    }
}
