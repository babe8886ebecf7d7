package dev.ferry.adapters.sqs;

import java.util.ArrayList;
import java.util.function.BooleanSupplier;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * An SDK interceptor that refuses one entry of a {@code SendMessageBatch}, as SQS may: the entry with
 * a given body never reaches the server, and the answer lists it as failed with the given code.
 * It refuses each time {@code refuse} says so (asked once per batch carrying that body).
 */
final class RefusedEntries implements ExecutionInterceptor {

    /** One attribute for every instance: the SDK refuses two attributes of one name in a JVM. */
    private static final ExecutionAttribute<String> REFUSED = new ExecutionAttribute<>("ferry-test-refused-entry");

    private final String body;
    private final BooleanSupplier refuse;
    private final String code;
    private final boolean senderFault;

    RefusedEntries(String body, BooleanSupplier refuse, String code, boolean senderFault) {
        this.body = body;
        this.refuse = refuse;
        this.code = code;
        this.senderFault = senderFault;
    }

    @Override
    public SdkRequest modifyRequest(Context.ModifyRequest context, ExecutionAttributes attributes) {
        if (context.request() instanceof SendMessageBatchRequest r
                && r.entries().stream().anyMatch(e -> e.messageBody().equals(body)) && refuse.getAsBoolean()) {
            var kept = new ArrayList<SendMessageBatchRequestEntry>();
            for (var e : r.entries()) {
                if (e.messageBody().equals(body)) {
                    attributes.putAttribute(REFUSED, e.id()); // never reaches the server
                } else {
                    kept.add(e);
                }
            }
            return r.toBuilder().entries(kept).build();
        }
        return context.request();
    }

    @Override
    public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes attributes) {
        var id = attributes.getAttribute(REFUSED);
        if (id != null && context.response() instanceof SendMessageBatchResponse r) {
            var failed = new ArrayList<>(r.failed());
            failed.add(BatchResultErrorEntry.builder().id(id).code(code).senderFault(senderFault)
                    .message("refused by the test").build());
            return r.toBuilder().failed(failed).build();
        }
        return context.response();
    }
}
