package dev.ferry.adapters.dynamodb;

import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * A completion or release whose write landed and whose answer was lost (a timeout, a 500 after it) is sent again by the
 * SDK and refused by that very write: no fence, though it was counted and logged as one. Only that write leaves
 * {@code state} with the caller's {@code token} (only claims change it) and its call's {@code nonce}: a later holder's
 * completion has another token, a second call of the holder's another nonce. Extend has none: its resend just succeeds.
 */
record OwnWrite(String state, long token, String nonce) {

    /** Whether the item a refused write found (DynamoDB's ALL_OLD) is this write's own; an attribute missing: not it. */
    boolean foundIn(Map<String, AttributeValue> refusing, String stateName, String tokenName) {
        return AttributeValue.fromS(state).equals(refusing.get(stateName))
                && AttributeValue.fromN(Long.toString(token)).equals(refusing.get(tokenName))
                && AttributeValue.fromS(nonce).equals(refusing.get(RefusedClaim.NONCE));
    }
}
