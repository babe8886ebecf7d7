package dev.ferry.codecs;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.ferry.domain.decode.Decoded;
import dev.ferry.domain.decode.Decoder;
import dev.ferry.domain.model.Delivery;
import java.io.IOException;

/**
 * Chooses a decoder by looking at the body's top-level field names: {@code Records} or
 * {@code Service}/{@code Event} → S3; {@code EventDocId}/{@code Events}/{@code EventDocVersion} →
 * MTurk; {@code TopicArn} or {@code Type} → SNS (whose inner message is sniffed again). Anything
 * else goes to the fallback decoder.
 */
final class SniffingDecoder implements Decoder {

    enum Kind { S3, MTURK, SNS, OTHER }

    private final JsonFactory factory;
    private final JsonLimits limits;
    private final Decoder s3;
    private final Decoder mturk;
    private final Decoder sns;
    private final Decoder fallback;

    SniffingDecoder(JsonLimits limits, Decoder fallback) {
        this.limits = limits;
        this.factory = JsonSupport.factory(limits);
        this.s3 = new S3Decoder(limits);
        this.mturk = new MturkDecoder(limits);
        this.sns = new SnsDecoder(limits, this);
        this.fallback = fallback;
    }

    @Override
    public Decoded decode(Delivery delivery) {
        return switch (sniff(delivery.body())) {
            case S3 -> s3.decode(delivery);
            case MTURK -> mturk.decode(delivery);
            case SNS -> sns.decode(delivery);
            case OTHER -> fallback.decode(delivery);
        };
    }

    Kind sniff(byte[] body) {
        if (body.length > limits.maxBodyBytes()) {
            return Kind.OTHER;
        }
        try (JsonParser p = factory.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return Kind.OTHER;
            }
            String name;
            while ((name = p.nextFieldName()) != null) {
                switch (name) {
                    case "Records", "Service", "Event" -> {
                        return Kind.S3;
                    }
                    case "EventDocId", "EventDocVersion", "Events" -> {
                        return Kind.MTURK;
                    }
                    case "TopicArn", "Type" -> {
                        return Kind.SNS;
                    }
                    default -> {
                        p.nextToken();
                        p.skipChildren();
                    }
                }
            }
            return Kind.OTHER;
        } catch (IOException | RuntimeException e) {
            return Kind.OTHER;
        }
    }
}
