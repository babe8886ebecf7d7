package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.adapters.sqs.SqsQueues;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.domain.testing.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A redrive started from the console, when Ferry closes while it runs (ElasticMQ on 127.0.0.1). */
class AdminRedriveIT {

    private static final String TOKEN = "a-token-of-16-chars!";

    @Test
    void aRedriveUnderWayWhenFerryCloses_endsAfterItsBatch_withEveryMessageInOneQueueOrTheOther() throws Exception {
        try (var sqs = new LocalSqs(); var observability = new Observability(); var http = HttpClient.newHttpClient()) {
            sqs.client.createQueue(b -> b.queueName("work-dlq"));
            sqs.client.createQueue(b -> b.queueName("work"));
            for (int i = 0; i < 40; i++) {
                sqs.send("work-dlq", "dead-" + i);
            }
            var redrive = new AdminRedrive(SqsQueues.of(sqs.client), TOKEN, dlq -> null);
            observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
            observability.redrive(redrive);
            int port = observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
            var start = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/queues/redrive?from=work-dlq&to=work&rate=4"))
                    .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build();
            assertThat(http.send(start, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(202);
            assertThat(Await.until(Duration.ofSeconds(20), () -> ((Number) redrive.json().get("moved")).intValue() >= 4)).isTrue();

            long began = System.nanoTime();
            redrive.stop(Duration.ofSeconds(10));
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("ended after its batch").isLessThan(Duration.ofSeconds(5));

            var status = redrive.json();
            assertThat(status.get("running")).isEqualTo(false);
            assertThat(String.valueOf(status.get("error"))).contains("closing");
            int moved = ((Number) status.get("moved")).intValue();
            assertThat(moved).isBetween(4, 39);
            assertThat(sqs.depth("work")).as("moved, once each").isEqualTo(moved);
            assertThat(sqs.depth("work-dlq")).as("the rest left where they were").isEqualTo(40 - moved);
            assertThat(http.send(start, HttpResponse.BodyHandlers.ofString()).statusCode()).as("none starts after").isEqualTo(503);
        }
    }

    @Test // a review: "limit=10" for "max=10" was not heard, and the whole DLQ redriven; rate=NaN was answered 202, then failed
    void aRedriveWithAParameterNotKnown_orARateNotANumber_isRefused_andNothingMoves() throws Exception {
        try (var sqs = new LocalSqs(); var observability = new Observability(); var http = HttpClient.newHttpClient()) {
            sqs.client.createQueue(b -> b.queueName("kept-dlq"));
            sqs.client.createQueue(b -> b.queueName("kept"));
            for (int i = 0; i < 3; i++) {
                sqs.send("kept-dlq", "dead-" + i);
            }
            observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
            observability.redrive(new AdminRedrive(SqsQueues.of(sqs.client), TOKEN, dlq -> null));
            int port = observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
            for (String query : java.util.List.of("from=kept-dlq&to=kept&limit=1", "from=kept-dlq&to=kept&max=1&rate=NaN",
                    "from=kept-dlq&to=kept&max=1&rate=Infinity")) {
                var answer = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/queues/redrive?" + query))
                        .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).as(query + ": " + answer.body()).isEqualTo(400);
            }
            Thread.sleep(500); // a redrive started would have moved its first batch by now
            assertThat(sqs.depth("kept-dlq")).as("nothing moved").isEqualTo(3);
            assertThat(sqs.depth("kept")).isZero();
        }
    }

    @Test // a review: a slow rate's wait (1,000 s a message at 0.001) was sat out whole; the close waited, then warned
    void aSlowRedriveWaitingForItsNextBatch_endsAtOnceWhenFerryCloses() throws Exception {
        try (var sqs = new LocalSqs(); var observability = new Observability(); var http = HttpClient.newHttpClient()) {
            sqs.client.createQueue(b -> b.queueName("slow-dlq"));
            sqs.client.createQueue(b -> b.queueName("slow"));
            for (int i = 0; i < 3; i++) {
                sqs.send("slow-dlq", "dead-" + i);
            }
            var redrive = new AdminRedrive(SqsQueues.of(sqs.client), TOKEN, dlq -> null);
            observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
            observability.redrive(redrive);
            int port = observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
            var start = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/queues/redrive?from=slow-dlq&to=slow&rate=0.001"))
                    .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build();
            assertThat(http.send(start, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(202);
            assertThat(Await.until(Duration.ofSeconds(20), () -> ((Number) redrive.json().get("moved")).intValue() == 1)).isTrue();

            long began = System.nanoTime();
            redrive.stop(Duration.ofSeconds(30));

            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("not the rate's 1,000 s, nor the close's patience")
                    .isLessThan(Duration.ofSeconds(5));
            var status = redrive.json();
            assertThat(status.get("running")).isEqualTo(false);
            assertThat(String.valueOf(status.get("error"))).contains("closing");
            assertThat(sqs.depth("slow")).isEqualTo(1);
            assertThat(sqs.depth("slow-dlq")).as("the rest where they were, none in hand").isEqualTo(2);
        }
    }

    @Test
    void copiesThatComeBackFailing_areSaidSo_notDone() throws Exception {
        // every copy dead-lettered again while the redrive ran: the console said "— done" (the CLI said they came back)
        try (var sqs = new LocalSqs(); var observability = new Observability(); var http = HttpClient.newHttpClient()) {
            sqs.client.createQueue(b -> b.queueName("back-dlq"));
            sqs.client.createQueue(b -> b.queueName("back"));
            for (int i = 0; i < 5; i++) {
                sqs.send("back-dlq", "dead-" + i);
            }
            try (var failing = sqs.failingConsumer("back", "back-dlq")) { // each copy back to the DLQ as it came
                var redrive = new AdminRedrive(SqsQueues.of(sqs.client), TOKEN, dlq -> null);
                observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
                observability.redrive(redrive);
                int port = observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
                var start = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/queues/redrive?from=back-dlq&to=back"))
                        .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build();
                assertThat(http.send(start, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(202);
                assertThat(Await.until(Duration.ofSeconds(30), () -> Boolean.FALSE.equals(redrive.json().get("running"))))
                        .as("ended: " + redrive.json()).isTrue();
                assertThat(((Number) redrive.json().get("moved")).intValue()).isEqualTo(5);
                assertThat(((Number) redrive.json().get("came_back")).intValue()).as(String.valueOf(redrive.json()))
                        .isPositive();
            }
        }
    }

    @Test // a review: letters another reader held out of sight as the run ended short were said as the console's error,
          // shown "— failed: about 3 …" for a redrive that ended as it should (the CLI says it as a note, exit 0)
    void lettersAnotherReaderHides_areANote_notAFailure() throws Exception {
        try (var sqs = new LocalSqs(); var observability = new Observability(); var http = HttpClient.newHttpClient()) {
            sqs.client.createQueue(b -> b.queueName("held-dlq"));
            sqs.client.createQueue(b -> b.queueName("held"));
            for (int i = 0; i < 3; i++) {
                sqs.send("held-dlq", "dead-" + i);
            }
            int hidden = 0;
            for (int tries = 0; hidden < 3 && tries < 20; tries++) { // another reader: each hidden ten minutes
                hidden += sqs.client.receiveMessage(b -> b.queueUrl(sqs.url("held-dlq")).maxNumberOfMessages(10)
                        .visibilityTimeout(600)).messages().size();
            }
            assertThat(hidden).isEqualTo(3);
            var redrive = new AdminRedrive(SqsQueues.of(sqs.client), TOKEN, dlq -> null);
            observability.health(new Health(Map.of(), Map.of(), "memory", Duration.ofMinutes(5), System::nanoTime, () -> true));
            observability.redrive(redrive);
            int port = observability.serve(new FerryConfig.Address("127.0.0.1", 0), true);
            var start = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/queues/redrive?from=held-dlq&to=held"))
                    .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.noBody()).build();
            assertThat(http.send(start, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(202);
            assertThat(Await.until(Duration.ofSeconds(30), () -> Boolean.FALSE.equals(redrive.json().get("running"))))
                    .as("ended: " + redrive.json()).isTrue();

            assertThat(redrive.json().get("error")).as(String.valueOf(redrive.json())).isNull();
            assertThat(String.valueOf(redrive.json().get("note"))).contains("about 3 of the letters in held-dlq were hidden "
                    + "by another reader");
        }
    }
}
