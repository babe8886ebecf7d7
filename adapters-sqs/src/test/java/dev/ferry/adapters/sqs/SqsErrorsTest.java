package dev.ferry.adapters.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

/** Whose fault a failed SQS call is: only what SQS answered about a message is the message's. */
class SqsErrorsTest {

    @Test
    void anExceptionThatIsNoAnswerOfSqs_isAFailureOfTheCall_retried_notTheMessagesFault() {
        // Apache's closed pool comes through the SDK unwrapped, an interceptor may throw anything: each was taken for
        // the message's fault, and the event dead-lettered at once
        for (var e : List.<RuntimeException>of(new IllegalStateException("Connection pool shut down"),
                new NullPointerException("in a tracing agent's interceptor"), SdkException.builder().message("not retryable").build())) {
            var error = SqsErrors.of(e);
            assertThat(error.senderFault()).as(e.toString()).isFalse();
            assertThat(error.retryable()).as(e.toString()).isTrue();
            assertThat(error.unavailable()).as(e.toString() + ": an attempt spent, not an outage waited out").isFalse();
            assertThat(error.toString()).contains(e.getMessage());
        }
        assertThat(SqsErrors.translate("SendMessage", "orders", new IllegalStateException("Connection pool shut down"))
                .retryable()).isTrue();
    }

    @Test
    void aChunkWhoseCallThrowsAnExceptionOfItsOwn_isSentAgain_notGivenUp() {
        var calls = new AtomicInteger();
        var failed = Batches.run(List.of("a"), x -> 0, Integer.MAX_VALUE, 1, chunk -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("Connection pool shut down");
            }
            return List.of();
        });
        assertThat(calls).hasValue(2);
        assertThat(failed).isEmpty();
    }

    @Test
    void aRefusalOfEveryMessageUntilASettingIsMended_needsMending_andIsNotTheMessagesFault() {
        var details = AwsErrorDetails.builder().errorCode("AWS.SimpleQueueService.NonExistentQueue")
                .errorMessage("The specified queue does not exist").build();
        var gone = AwsServiceException.builder().statusCode(400).awsErrorDetails(details).message("gone").build();
        for (var error : List.of(SqsErrors.of(gone), SqsErrors.entry("KMS.DisabledException", "disabled", true),
                SqsErrors.entry("AccessDenied", "no", true))) {
            assertThat(error.needsMending()).as(error.toString()).isTrue();
            assertThat(error.senderFault()).as(error.toString()).isFalse();
        }
        var content = SqsErrors.entry("InvalidMessageContents", "bad", true);
        assertThat(content.needsMending()).isFalse();
        assertThat(content.senderFault()).isTrue();
        assertThat(SqsErrors.entry("InternalError", "oops", false).needsMending()).as("an outage, not a setting").isFalse();
    }
}
