package dev.ferry.adapters.sqs;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.model.Thrown;
import java.util.Locale;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/** Keeps AWS SDK exceptions at the border: codes and retryability in Ferry's terms. */
final class SqsErrors {

    /*
     * SQS answers its JSON protocol with the codes of its query protocol, in the x-amzn-query-error header, and the SDK
     * reports those: KMS.ThrottlingException, not the shape's name KmsThrottled. Both forms are listed.
     */
    private static final Set<String> THROTTLING = Set.of("RequestThrottled", "ThrottlingException", "Throttling",
            "KmsThrottled", "KMS.ThrottlingException", "OverLimit", "AWS.SimpleQueueService.RequestThrottled");
    /**
     * Refusals of a whole call that say nothing about its messages: the queue is gone, the credentials
     * or the permissions (KMS's too) are wrong. Each message is fine and goes again once that is mended.
     */
    private static final Set<String> NOT_THE_MESSAGES = Set.of("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
            "AccessDenied", "AccessDeniedException", "KmsAccessDenied", "KmsDisabled", "KmsNotFound", "KmsInvalidState",
            "KmsInvalidKeyUsage", "KmsOptInRequired", "KMS.AccessDeniedException", "KMS.DisabledException",
            "KMS.NotFoundException", "KMS.InvalidStateException", "KMS.InvalidKeyUsageException", "KMS.OptInRequired",
            "InvalidAddress", "AWS.SimpleQueueService.QueueDeletedRecently", "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
            "UnrecognizedClientException", "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken",
            "InvalidSecurity", "RequestExpired", "OptInRequired", "InvalidAccessKeyId");

    private SqsErrors() {
    }

    /** One failed entry of a batch call (or every entry of a call that failed as a whole). */
    /** The code of a call that failed without SQS's answer, by an exception of its own (not the SDK's). */
    static final String CALL_FAILED = "CallFailed";

    record EntryError(String code, String message, boolean senderFault) {

        /** Worth sending again: the server's fault, a network error, or throttling. */
        boolean retryable() {
            return !senderFault || throttling(code);
        }

        boolean throttled() {
            return throttling(code);
        }

        /**
         * SQS not reached, failing itself (5xx), or the call failed without SQS's answer (an exception of the
         * transport's or an interceptor's): an outage, not the message's doing nor a refusal that a setting must
         * mend. The SDK has retried the call already.
         */
        boolean unavailable() {
            return !senderFault && (code.equals("ClientError") || code.startsWith("HTTP 5") || SERVER_ERRORS.contains(code));
        }

        /**
         * SQS refusing every message until a setting is mended: the queue is gone, a permission or the queue's
         * KMS key withdrawn, the credentials expired. No message's doing, and no attempt spent on it helps.
         */
        boolean needsMending() {
            return !senderFault && (NOT_THE_MESSAGES.contains(code) || queueSetting(message));
        }

        /** A receipt from an earlier receive of a message that has been received again since, or deleted. */
        boolean invalidReceipt() {
            if (code.contains("ReceiptHandleIsInvalid") || code.contains("InvalidReceiptHandle") || code.contains("MessageNotInflight")) {
                return true;
            }
            // a stale receipt's visibility change is answered InvalidParameterValue, "Value ... for parameter
            // ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
            var text = message == null ? "" : message.toLowerCase(Locale.ROOT);
            return text.contains("receipt handle") || text.contains("receipthandle");
        }

        @Override
        public String toString() {
            return code + (message == null || message.isBlank() ? "" : ": " + message);
        }
    }

    private static final Set<String> SERVER_ERRORS = Set.of("InternalError", "InternalFailure", "ServiceUnavailable",
            "AWS.SimpleQueueService.InternalError", "ServiceUnavailableException");

    /**
     * What a sink answers for an event SQS answered for without taking it: waited out when SQS throttles,
     * rejected when the message is at fault, retried otherwise (stored altered, not confirmed). An outage
     * ({@link EntryError#unavailable}) and a refusal until a setting is mended ({@link EntryError#needsMending})
     * are the sink's {@link dev.ferry.domain.transport.Outage}'s.
     */
    static dev.ferry.domain.handle.Outcome outcome(EntryError error, String queue, java.time.Duration wait) {
        if (error.throttled()) {
            return dev.ferry.domain.handle.Outcome.throttled(wait);
        }
        if (error.senderFault()) {
            return dev.ferry.domain.handle.Outcome.reject("SQS queue '" + queue + "' refused the message: " + error);
        }
        return dev.ferry.domain.handle.Outcome.retry("SQS queue '" + queue + "': " + error);
    }

    /**
     * One failed entry of a batch answer. SQS marks a refusal by the queue's KMS key or a permission as the sender's
     * fault, entry by entry as for a whole call: not the message's, so retried (a key disabled for a rotation
     * dead-lettered the events sent meanwhile, and gave dead letters up for good).
     */
    static EntryError entry(String code, String message, boolean senderFault) {
        return new EntryError(code, message, senderFault && !NOT_THE_MESSAGES.contains(code) && !queueSetting(message));
    }

    /**
     * A refusal that names a setting of the queue, not the message: a FIFO queue whose content-based deduplication was
     * turned off under a sink that counts on it ("should either have ContentBasedDeduplication enabled or
     * MessageDeduplicationId provided") refused every message, each dead-lettered as its own fault.
     */
    static boolean queueSetting(String message) {
        return message != null && message.contains("ContentBasedDeduplication");
    }

    static boolean throttling(String code) {
        return code != null && THROTTLING.contains(code);
    }

    static EntryError of(RuntimeException e) {
        if (e instanceof AwsServiceException ase) {
            String code = ase.awsErrorDetails() == null || ase.awsErrorDetails().errorCode() == null
                    ? "HTTP " + ase.statusCode() : ase.awsErrorDetails().errorCode();
            String message = ase.awsErrorDetails() == null ? ase.getMessage() : ase.awsErrorDetails().errorMessage();
            if ((ase.statusCode() == 429 || ase.isThrottlingException()) && !throttling(code)) {
                // a 429 without a code, or with one not named here (SlowDown, TooManyRequestsException): throttling
                // all the same — waited out, not an attempt spent
                message = code + (message == null ? "" : ": " + message);
                code = "Throttling";
            }
            boolean messagesFault = ase.statusCode() < 500 && !ase.isThrottlingException() && !ase.retryable()
                    && ase.statusCode() != 401 && ase.statusCode() != 403 && !NOT_THE_MESSAGES.contains(code)
                    && !queueSetting(message);
            return new EntryError(code, message, messagesFault);
        }
        if (e instanceof SdkClientException) {
            return new EntryError("ClientError", Thrown.message(e), false);
        }
        // no answer of SQS's: only what SQS says about a message is its fault. Apache's "Connection pool shut down" comes
        // through the SDK unwrapped, and an interceptor (a tracing agent's) may throw anything — in afterExecution, with
        // the batch stored. Blamed on the message, each was dead-lettered at once; it is a failure of the call — retried,
        // an attempt spent (not an outage waited out: one that throws every time stored each event 4 times a second)
        return new EntryError(CALL_FAILED, Thrown.describe(e), false); // its text may throw (a plugin's)
    }

    /** A failed call as Ferry's exception, naming the queue and the operation. */
    static FerryException translate(String operation, String queue, RuntimeException e) {
        if (e instanceof QueueDoesNotExistException) {
            return new FerryException("SQS queue '" + queue + "' does not exist (" + operation + ")", e, false);
        }
        if (e instanceof SdkClientException && Thrown.message(e).contains("MD5")) {
            // ADR 0002: the SDK's own check fails a whole receive for one damaged message, again and again
            return new FerryException("SQS " + operation + " on '" + queue + "' failed: the SqsClient checks MD5 digests "
                    + "itself and refused a whole receive for one damaged message (" + Thrown.message(e) + "). Build the "
                    + "client with SqsClients, or with checksumValidationEnabled(false): Ferry checks each message itself "
                    + "and dead-letters only the damaged one", e, true);
        }
        var error = of(e);
        return new FerryException("SQS " + operation + " on '" + queue + "' failed: " + error, e, error.retryable());
    }
}
