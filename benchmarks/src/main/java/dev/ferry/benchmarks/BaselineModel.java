package dev.ferry.benchmarks;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The records the baselines (Jackson databind, fastjson2) bind into: the same fields Ferry's
 * decoders read, nothing more.
 */
final class BaselineModel {

    private BaselineModel() {
    }

    record S3Notification(@JsonProperty("Records") List<S3Record> records) {
        // One component: without this, databind takes the constructor as a delegating creator.
        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        S3Notification {
        }
    }

    record S3Record(@JsonProperty("eventName") String eventName, @JsonProperty("eventTime") String eventTime,
                    @JsonProperty("awsRegion") String awsRegion, @JsonProperty("s3") S3Entity s3) {
    }

    record S3Entity(@JsonProperty("bucket") S3Bucket bucket, @JsonProperty("object") S3Object object) {
    }

    record S3Bucket(@JsonProperty("name") String name) {
    }

    record S3Object(@JsonProperty("key") String key, @JsonProperty("size") long size, @JsonProperty("eTag") String eTag,
                    @JsonProperty("versionId") String versionId, @JsonProperty("sequencer") String sequencer) {
    }

    record SnsEnvelope(@JsonProperty("Type") String type, @JsonProperty("MessageId") String messageId,
                       @JsonProperty("TopicArn") String topicArn, @JsonProperty("Subject") String subject,
                       @JsonProperty("Message") String message, @JsonProperty("Timestamp") String timestamp) {
    }

    record MturkDocument(@JsonProperty("EventDocVersion") String eventDocVersion,
                         @JsonProperty("EventDocId") String eventDocId, @JsonProperty("CustomerId") String customerId,
                         @JsonProperty("Events") List<MturkEvent> events) {
    }

    record MturkEvent(@JsonProperty("EventType") String eventType, @JsonProperty("EventTimestamp") String eventTimestamp,
                      @JsonProperty("HITTypeId") String hitTypeId, @JsonProperty("HITId") String hitId,
                      @JsonProperty("AssignmentId") String assignmentId) {
    }
}
