package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.Event;

/** What an SQS sink refuses before sending: what SQS would refuse, or carry as something else. */
final class SendRefusals {

    private SendRefusals() {
    }

    /**
     * Why {@code event} (its payload as SQS text: {@code body}, null when it is none) is not to be sent to queue
     * {@code queue}; null when it may be.
     */
    static String refused(Event event, String body, String queue) {
        if (body == null || body.isEmpty()) {
            // SQS carries text only: decoded lossily it would be sent, and answered done, as some other bytes. An empty one
            // (a Kafka tombstone, an empty SNS message) it refuses — in a batch refused whole, nine other events with it
            return "event " + event.key() + "'s payload is " + (body == null ? "not text SQS takes "
                    + "(UTF-8 without control characters other than tab, LF and CR)" : "empty, and SQS takes no message "
                    + "without a body") + ": refused before sending it to SQS queue '" + queue + "'";
        }
        for (var a : event.attributes().entrySet()) {
            if (!AttributeText.utf8(a.getKey()) || !AttributeText.utf8(a.getValue())) {
                // a control character goes as AttributeText bytes; half a surrogate pair no UTF-8 holds (it would arrive as '?')
                return "event " + event.key() + "'s attribute '" + a.getKey() + "' holds half a surrogate pair, which SQS "
                        + "does not carry (no UTF-8 text holds it): refused before sending it to SQS queue '" + queue + "'";
            }
        }
        return null;
    }
}
