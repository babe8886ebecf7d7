package dev.ferry.adapters.sqs;

import java.util.Map;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * What an {@link SqsSource} needs to settle a delivery it handed out: the receipt handle, when the
 * receive was asked for (SQS caps a message's visibility at 12 hours from then), and the message
 * attributes with their SQS types, so a dead-letter copy carries them unchanged.
 */
record SqsReceipt(String handle, long receivedAtNanos, Map<String, MessageAttributeValue> messageAttributes) {

    @Override
    public String toString() {
        // receipt handles are long and secret-ish; logs need only a recognisable prefix
        return "SqsReceipt[" + handle.substring(0, Math.min(12, handle.length())) + "...]";
    }
}
