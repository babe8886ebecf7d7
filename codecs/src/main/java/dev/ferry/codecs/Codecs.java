package dev.ferry.codecs;

import dev.ferry.domain.decode.Decoder;
import java.util.Locale;

/**
 * The decoders for the payloads Ferry's users receive. Every decoder is thread-safe, never throws
 * for bad input (it answers {@code Malformed} with a reason naming the field or the byte offset),
 * and honours {@link JsonLimits}.
 */
public final class Codecs {

    private Codecs() {
    }

    /** S3 event notifications (and {@code s3:TestEvent}). */
    public static Decoder s3(JsonLimits limits) {
        return new S3Decoder(limits);
    }

    /** Mechanical Turk event documents. */
    public static Decoder mturk(JsonLimits limits) {
        return new MturkDecoder(limits);
    }

    /** SNS envelopes (or raw delivery) around what {@code inner} decodes. */
    public static Decoder sns(JsonLimits limits, Decoder inner) {
        return new SnsDecoder(limits, inner);
    }

    /**
     * Any JSON object; id, type, group key and time read at JSON Pointers ({@code /order/id}).
     * {@code typePointer}, {@code groupPointer}, {@code timePointer} may be null; events without a
     * type get {@code defaultType}, those without a group the delivery's group key (FIFO group, Kafka key).
     */
    public static Decoder json(JsonLimits limits, String idPointer, String typePointer, String groupPointer,
                               String timePointer, String defaultType) {
        return new JsonPointerDecoder(limits, new JsonPointerDecoder.Pointers(idPointer, typePointer, groupPointer,
                timePointer, defaultType));
    }

    /**
     * Ordinary bodies, parsed as nothing: each message is one event of type {@code raw} whose payload
     * is the body as it came, keyed by the message id; bodies up to the default 1 MiB.
     */
    public static Decoder raw() {
        return raw("raw", JsonLimits.defaults());
    }

    /** {@link #raw()} with events of type {@code type}. */
    public static Decoder raw(String type) {
        return raw(type, JsonLimits.defaults());
    }

    /** {@link #raw(String)} with bodies up to {@code limits.maxBodyBytes()}. */
    public static Decoder raw(String type, JsonLimits limits) {
        return new RawDecoder(type, limits.maxBodyBytes());
    }

    /** Picks S3, MTurk or SNS by content; anything else goes to {@code fallback}. */
    public static Decoder sniffing(JsonLimits limits, Decoder fallback) {
        return new SniffingDecoder(limits, fallback);
    }

    /**
     * A decoder by its config name: {@code s3}, {@code mturk}, {@code sns} (sniffing inside),
     * {@code sns+s3}, {@code sns+mturk}, {@code raw}, {@code auto} (sniffing, raw fallback).
     * {@code json} needs pointers: use {@link #json}.
     */
    public static Decoder named(String format, JsonLimits limits) {
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "s3" -> s3(limits);
            case "mturk" -> mturk(limits);
            case "sns" -> sns(limits, new SniffingDecoder(limits, raw("raw", limits), true, false));
            case "sns+s3" -> sns(limits, s3(limits));
            case "sns+mturk" -> sns(limits, mturk(limits));
            case "raw" -> raw("raw", limits);
            case "auto" -> sniffing(limits, raw("raw", limits));
            default -> throw new IllegalArgumentException("unknown format '" + format
                    + "', expected one of s3, mturk, sns, sns+s3, sns+mturk, raw, auto (json needs pointers)");
        };
    }
}
