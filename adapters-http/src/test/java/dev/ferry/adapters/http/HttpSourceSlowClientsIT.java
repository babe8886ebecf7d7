package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import dev.ferry.domain.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * #16: the ingest endpoint against slow clients (slowloris) and many bodies at once: the read deadlines,
 * the limit of bodies read at once, and the byte budget of the bodies held until their answer; real
 * sockets on 127.0.0.1, a real listener behind the endpoint.
 */
class HttpSourceSlowClientsIT extends IngestEndpointFixture {

    /** Writes a space into each socket every 200 ms until stopped: bodies that trickle in. */
    private static Thread trickle(List<Socket> sockets, AtomicBoolean stop) {
        return Thread.ofPlatform().daemon().name("trickle").start(() -> {
            while (!stop.get()) {
                for (var socket : sockets) {
                    try {
                        socket.getOutputStream().write(' ');
                        socket.getOutputStream().flush();
                    } catch (IOException closed) {
                        // the server gave up on it
                    }
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    @Test // #16
    void fiveHundredSlowClients_doNotKeepAWellBehavedOneWaiting() throws Exception {
        // the default limits; a long read timeout, so that no slow client is cut off during the test
        var source = start(HttpSource.builder().auth(IngestAuth.none()).readTimeout(Duration.ofSeconds(60)));
        var trickling = new ArrayList<Socket>();
        var stop = new AtomicBoolean();
        Thread trickler = null;
        try {
            for (int i = 0; i < 500; i++) {
                var socket = upload(source, 1000, "{\"id\":\"slow-" + i + "\",");
                if (i % 2 == 0) {
                    trickling.add(socket);   // the other half stall
                }
            }
            trickler = trickle(trickling, stop);
            assertThat(Await.until(Duration.ofSeconds(30), () -> source.uploading() == 500))
                    .as("500 bodies being read, %d seen", source.uploading()).isTrue();

            long start = System.nanoTime();
            var response = client.send(HttpRequest.newBuilder(source.uri()).timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"good\",\"type\":\"Good\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            assertThat(took).isLessThan(Duration.ofSeconds(5));
            assertThat(handled).containsExactly("good");
        } finally {
            stop.set(true);
            if (trickler != null) {
                trickler.join(5_000);
            }
            for (var socket : sockets) {
                socket.close();
            }
        }
        assertThat(Await.until(Duration.ofSeconds(20), () -> source.uploading() == 0))
                .as("closed clients give their upload slot back, %d left", source.uploading()).isTrue();
    }

    @Test // #16
    void bodiesNotReceivedWithinTheReadTimeout_get408_andTheirConnectionClosed() throws Exception {
        var source = start(HttpSource.builder().auth(IngestAuth.none()).readTimeout(Duration.ofSeconds(1)));
        var stalled = new ArrayList<Socket>();
        var trickling = new ArrayList<Socket>();
        for (int i = 0; i < 10; i++) {
            stalled.add(upload(source, 500, "{\"id\":\"stalled-" + i + "\","));
            trickling.add(upload(source, 500, "{\"id\":\"trickling-" + i + "\","));
        }
        var stop = new AtomicBoolean();
        var trickler = trickle(trickling, stop);
        try {
            for (var socket : stalled) {
                String head = head(socket);
                assertThat(head).startsWith("HTTP/1.1 408").containsIgnoringCase("Connection: close");
                assertThat(closedByServer(socket, Duration.ofSeconds(10))).isTrue();
            }
            for (var socket : trickling) {
                assertThat(closedByServer(socket, Duration.ofSeconds(10))).as("a trickle does not extend the deadline").isTrue();
            }
        } finally {
            stop.set(true);
            trickler.join(5_000);
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 0)).isTrue();
        assertThat(handled).isEmpty();
        assertThat(post(source, "{\"id\":\"after\",\"type\":\"Good\"}").statusCode()).isEqualTo(200);
    }

    @Test
    void aChunkSizeOverTwoGigabytes_isAnswered400_andTheEndpointGoesOn() throws Exception {
        var source = start(HttpSource.builder().auth(IngestAuth.none()));
        var socket = new Socket();
        sockets.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", source.port()), 5_000);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "ffffffff\r\n{\"id\":\"x\"}").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();

        assertThat(head(socket)).startsWith("HTTP/1.1 400");
        assertThat(handled).isEmpty();
        assertThat(post(source, "{\"id\":\"after\",\"type\":\"Good\"}").statusCode()).isEqualTo(200);
    }

    @Test
    void aRequestWhoseBodyArrivesAsTheSourceStops_isAnsweredAtOnce_andTheStopDoesNotWaitForItsTimeout() throws Exception {
        // the listener has stopped already (as the app stops them first): nobody polls the source any more
        var source = HttpSource.builder().auth(IngestAuth.none()).readTimeout(Duration.ofSeconds(30))
                .responseTimeout(Duration.ofSeconds(30)).build().start();
        opened.add(source);
        String body = "{\"id\":\"late\",\"type\":\"Good\"}";
        var socket = upload(source, body.length(), body.substring(0, 5));
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 1)).isTrue();
        var closer = Thread.ofPlatform().start(source::close);
        Thread.sleep(300); // the stop has emptied its queue: the request is still reading its body
        socket.getOutputStream().write(body.substring(5).getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();

        assertThat(head(socket)).as("answered as released, not after the response timeout").startsWith("HTTP/1.1 503");
        closer.join(15_000);
        assertThat(closer.isAlive()).as("the stop ended within its own 5 s, not the request's 30").isFalse();
    }

    @Test // #16
    void headersNotReceivedWithinTheReadTimeout_closeTheConnection() throws Exception {
        var source = start(HttpSource.builder().auth(IngestAuth.none()).readTimeout(Duration.ofSeconds(1)));
        var socket = new Socket();
        sockets.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", source.port()), 5_000);
        socket.getOutputStream().write("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
                .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();

        assertThat(closedByServer(socket, Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void slowUploadsBeyondTheByteBudget_get503AtOnce_beforeTheirBodiesFillTheHeap() throws Exception {
        // maxUploads slow senders of bodies at the limit (no valid signature needed to send one) held that many
        // megabytes at once: a thousand of a megabyte took a 768 MiB heap down, with every pipeline in the process
        var source = start(HttpSource.builder().auth(IngestAuth.none()).maxBodyBytes(100_000).maxUploadBytes(250_000)
                .readTimeout(Duration.ofSeconds(30)));
        var slow = new ArrayList<Socket>();
        for (int i = 0; i < 2; i++) {
            slow.add(upload(source, 100_000, "{\"id\":\"slow-" + i + "\","));
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 2)).isTrue();

        var excess = upload(source, 100_000, "{\"id\":\"excess\",");
        excess.setSoTimeout(3_000);
        assertThat(head(excess)).as("a third would pass the budget").startsWith("HTTP/1.1 503");
        var small = post(source, "{\"id\":\"small\",\"type\":\"Good\"}");
        assertThat(small.statusCode()).as("a small body still fits").isNotEqualTo(503);

        for (var socket : slow) {
            socket.close();
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 0)).isTrue();
        var again = upload(source, 100_000, "{\"id\":\"again\",");
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 1)).as("the budget came back").isTrue();
        again.close();
    }

    @Test // a review: a body's bytes were given back once it was read, and its request then waited for its answer (up to
          // responseTimeout) outside any bound: 256 bodies of 8 MiB held were 2 GiB on a heap of 768 MiB, on every instance
    void bodiesWaitingForTheirAnswer_stayCountedInTheByteBudget_andGiveItBackOnceAnswered() throws Exception {
        var source = HttpSource.builder().auth(IngestAuth.none()).maxBodyBytes(1 << 20).maxUploadBytes(4L << 20).build()
                .start();
        opened.add(source);
        var release = new CountDownLatch(1);
        var handling = new AtomicInteger();
        opened.add(Listener.builder(source, source, HttpSourceIT.DECODER, (event, delivery) -> {
            handling.incrementAndGet();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }).config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(30))
                .shutdownDeadline(Duration.ofMillis(200)).build()).build().start());
        var held = new ArrayList<CompletableFuture<HttpResponse<String>>>();
        try {
            // three bodies of a MiB fit in the budget of 4 MiB (each counts a MiB and a KiB): read, and waiting on the handler
            for (int i = 0; i < 3; i++) {
                int before = handling.get();
                var answer = client.sendAsync(HttpRequest.newBuilder(source.uri()).timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString(ofSize("held-" + i, 1 << 20))).build(),
                        HttpResponse.BodyHandlers.ofString());
                held.add(answer);
                assertThat(Await.until(Duration.ofSeconds(10), () -> handling.get() > before || answer.isDone())).isTrue();
            }
            assertThat(handling.get()).as("the three are with the handler").isEqualTo(3);
            for (int i = 0; i < 5; i++) {
                var excess = upload(source, 1 << 20, "{\"id\":\"excess-" + i + "\",");
                excess.setSoTimeout(5_000);
                assertThat(head(excess)).as("past the budget while the three wait").startsWith("HTTP/1.1 503")
                        .containsIgnoringCase("Retry-After: 1");
            }
            assertThat(held).as("still waiting for their answer").noneMatch(CompletableFuture::isDone);
        } finally {
            release.countDown();
        }
        for (var answer : held) {
            assertThat(answer.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> status(source, ofSize("again", 1 << 20)) == 200))
                .as("the budget given back once they were answered: a body at the limit is taken again").isTrue();
    }

    @Test // a second review: answered at its response timeout (429), a request gave its bytes back while its events still
          // waited in hand — resends under the same key each queued another copy, and only capacity bounded them
    void eventsAnsweredAtTheResponseTimeout_keepTheirBytesInTheBudget_untilTheyAreSettled() throws Exception {
        var source = HttpSource.builder().auth(IngestAuth.none()).maxBodyBytes(1 << 20).maxUploadBytes(4L << 20)
                .responseTimeout(Duration.ofMillis(300)).capacity(100).build().start();
        opened.add(source);
        var release = new CountDownLatch(1);
        opened.add(Listener.builder(source, source, HttpSourceIT.DECODER, (event, delivery) -> {
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }).config(ListenerConfig.builder().pollWait(Duration.ofMillis(50)).lease(Duration.ofSeconds(30)).concurrency(16)
                .shutdownDeadline(Duration.ofMillis(200)).build()).build().start());
        var answers = new ArrayList<Integer>();
        try {
            for (int i = 0; i < 8; i++) { // one after another: each taken one waits out its 300 ms, then is answered
                answers.add(status(source, ofSize("waiting-" + i, 1 << 20)));
            }
        } finally {
            release.countDown();
        }
        assertThat(answers.stream().filter(status -> status != 503 && status != -1).count())
                .as("taken while their events wait: three bodies fill the 4 MiB budget, " + answers).isLessThanOrEqualTo(3);
        assertThat(answers).as("refused at once past it").contains(503);
        assertThat(Await.until(Duration.ofSeconds(10), () -> status(source, ofSize("after", 1 << 20)) == 200))
                .as("given back once they were settled").isTrue();
    }

    @Test // a review of the shared budget: a source closed with events handed out and never settled (a stop that did not
          // end, a delivery its handler kept) kept their bytes: lost to every HTTP source of the process until a restart
    void aSourceClosedWithEventsNeverSettled_givesTheirBytesBackToTheSharedBudget() throws Exception {
        int before = Uploads.sharedKibLeft();
        var source = HttpSource.builder().auth(IngestAuth.none()).maxBodyBytes(1 << 20)
                .responseTimeout(Duration.ofMillis(300)).build().start();
        opened.add(source);
        var polled = java.util.concurrent.CompletableFuture.supplyAsync(() -> source.poll(
                new dev.ferry.domain.transport.PollRequest(10, Duration.ofSeconds(5), Duration.ofMinutes(1))));
        status(source, ofSize("kept", 512 * 1024)); // answered at its response timeout, its event still unsettled
        assertThat(polled.get(10, TimeUnit.SECONDS)).as("handed out, never settled").hasSize(1);
        assertThat(Uploads.sharedKibLeft()).as("its bytes held").isLessThan(before);
        source.close();
        assertThat(Uploads.sharedKibLeft()).as("given back at the close").isEqualTo(before);
    }

    @Test // a review: an answer was held outside the byte budget while it was written — a batch's (a megabyte of ids,
          // eight of reject reasons) kept in memory for as long as its client did not read it, however many did that
    void anAnswerPastTheByteBudget_isSentCompact_andAnAnswerThatFitsIsSentWhole() throws Exception {
        var source = HttpSource.builder().auth(IngestAuth.none()).maxBodyBytes(100_000).maxUploadBytes(250_000).build()
                .start();
        opened.add(source);
        String reason = "r".repeat(2_000);
        opened.add(Listener.builder(source, source, HttpSourceIT.DECODER, (event, delivery) -> Outcome.reject(reason))
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(30))
                        .shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start());
        var batch = new StringBuilder("[");
        for (int i = 0; i < 1_000; i++) { // some 13 KB; its whole answer, each event with its reason, some 2 MB
            batch.append(i == 0 ? "" : ",").append("{\"id\":\"e").append(i).append("\"}");
        }
        var compact = client.send(HttpRequest.newBuilder(source.uri()).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(batch.append("]").toString())).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(compact.statusCode()).as("the status of the whole answer").isEqualTo(422);
        assertThat(compact.body()).as("each event's index and status, and what was left out")
                .startsWith("{\"results\":[{\"index\":0,\"status\":\"rejected\"},{\"index\":1,")
                .contains(",{\"index\":999,\"status\":\"rejected\"}],\"omitted\":\"each event's id and reason")
                .doesNotContain("rrrr");
        assertThat(compact.body().length()).as("bounded by the events' count, not their reasons").isLessThan(40_000);

        var whole = post(source, "{\"id\":\"one\",\"type\":\"Good\"}");
        assertThat(whole.statusCode()).isEqualTo(422);
        assertThat(whole.body()).as("an answer that fits, as it was")
                .startsWith("{\"results\":[{\"index\":0,\"status\":\"rejected\",\"reason\":\"").contains(reason)
                .doesNotContain("omitted");
        assertThat(Await.until(Duration.ofSeconds(10), () -> status(source, ofSize("again", 100_000)) == 422))
                .as("the answers' bytes given back once written: a body at the limit is taken again").isTrue();
    }

    @Test // round 51: answers took from the whole byte budget, and each 64 KiB of one may take readTimeout to be read: a
          // slow but steady reader of a big answer held twice its length for minutes, a handful of them all of it, and
          // every upload was answered 503 "too many bytes being received at once" while none was being read
    void aSlowReaderOfABigAnswer_holdsAtMostHalfTheByteBudget_andUploadsGoOnBesideIt() throws Exception {
        // a budget of 8,203 KiB. The batch's whole answer, 6 MB of reasons, is built in a buffer of 8,008 KiB: charged
        // that, it is more than the half, so it is sent compact (58 KiB). Charged it whole, as before, it left 180 KiB
        // beside its body's 14 — the upload below, 586 KiB, was answered 503 for as long as the answer was read
        var source = HttpSource.builder().auth(IngestAuth.none()).maxBodyBytes(1_000_000).maxUploadBytes(8_400_000)
                .readTimeout(Duration.ofSeconds(2)).build().start();
        opened.add(source);
        String reason = "r".repeat(6_000);
        opened.add(Listener.builder(source, source, HttpSourceIT.DECODER,
                        (event, delivery) -> "big".equals(event.key()) ? Outcome.done() : Outcome.reject(reason))
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(30))
                        .shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start());
        byte[] batch = batchOf(1_000).getBytes(StandardCharsets.US_ASCII);
        var slow = new Socket();
        sockets.add(slow);
        // set before connecting: with the kernel's own, megabytes of the answer were taken off the server at once
        slow.setReceiveBufferSize(4096);
        slow.connect(new InetSocketAddress("127.0.0.1", source.port()), 5_000);
        slow.getOutputStream().write(("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + batch.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        slow.getOutputStream().write(batch);
        slow.getOutputStream().flush();
        var received = new ByteArrayOutputStream();
        var answerBegun = new CountDownLatch(1);
        var stop = new AtomicBoolean();
        var reader = Thread.ofPlatform().daemon().name("slow-reader")
                .start(() -> readSlowly(slow, received, answerBegun, stop));
        int upload;
        try {
            assertThat(answerBegun.await(60, TimeUnit.SECONDS)).as("the batch's answer begins").isTrue();
            Thread.sleep(6_000); // some 480 KiB read of it by now: its whole form, at this pace, takes over a minute
            upload = status(source, ofSize("big", 600_000));
        } finally {
            stop.set(true);
            reader.join(10_000);
        }
        assertThat(upload).as("an upload from another client while the slow one reads its answer").isEqualTo(200);
        assertThat(reader.isAlive()).isFalse();
        assertThat(received.toString(StandardCharsets.ISO_8859_1)).as("the slow reader's answer: compact, not cut")
                .startsWith("HTTP/1.1 422").contains("\"omitted\":\"each event's id and reason").doesNotContain("rrrr");
    }

    @Test // a review of round 51: a request let go of its body only once its answer was written, and the reply held its
          // events' payloads for the counts it might send instead: a slow reader of a big answer kept its body counted
          // for as long as it read, beside the answer — five readers of 400 KB answers held 7.3 MB of a budget of 8.2
    void aSlowReaderOfABigAnswer_holdsItsAnswerInTheByteBudget_notItsBody() throws Exception {
        // one reader, its answer past what the kernel takes off the server at once: a loopback socket's send buffer is
        // some 2.6 MB on Linux, and answers of 400 KB go into it whole at once (their bodies given back, mended or
        // not). A budget of 8,203 KiB: the batch's body, 3,712 KiB, and its whole answer (4 MB of reasons, built in a
        // buffer of 4,005 KiB: within the half, a compact answer's room beside it). Both held, they leave 486 KiB, and
        // the upload below, 928 KiB, is answered 503; the answer alone leaves 4,198. A read timeout of 30 s: a write
        // blocked on a full send buffer is woken once a third of it has drained, 11 s at the reader's pace — at 2 s the
        // connection would be cut half a second after the upload came, the body given back with it, mended or not
        var source = HttpSource.builder().auth(IngestAuth.none()).maxBodyBytes(4_000_000).maxUploadBytes(8_400_000)
                .readTimeout(Duration.ofSeconds(30)).build().start();
        opened.add(source);
        String reason = "r".repeat(3_950);
        opened.add(Listener.builder(source, source, HttpSourceIT.DECODER,
                        (event, delivery) -> "big".equals(event.key()) ? Outcome.done() : Outcome.reject(reason))
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(30))
                        .shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start());
        var batch = new StringBuilder("[");
        for (int i = 0; i < 1_000; i++) {
            batch.append(i == 0 ? "" : ",").append(ofSize("e" + i, 3_800));
        }
        byte[] body = batch.append("]").toString().getBytes(StandardCharsets.US_ASCII);
        var slow = new Socket();
        sockets.add(slow);
        slow.setReceiveBufferSize(4096); // before connecting, as above
        slow.connect(new InetSocketAddress("127.0.0.1", source.port()), 5_000);
        slow.getOutputStream().write(("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Connection: close\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        slow.getOutputStream().write(body);
        slow.getOutputStream().flush();
        var received = new ByteArrayOutputStream();
        var answerBegun = new CountDownLatch(1);
        var stop = new AtomicBoolean();
        var reader = Thread.ofPlatform().daemon().name("slow-reader")
                .start(() -> readSlowly(slow, received, answerBegun, stop));
        int upload;
        int readByThen;
        try {
            assertThat(answerBegun.await(60, TimeUnit.SECONDS)).as("the batch's answer begins").isTrue();
            Thread.sleep(1_500); // some 110 KB of it read by now: the server is still writing it
            upload = status(source, ofSize("big", 950_000));
            readByThen = received.size();
        } finally {
            stop.set(true);
            reader.join(10_000);
        }
        assertThat(reader.isAlive()).isFalse();
        assertThat(upload).as("an upload from another client while the slow one reads its answer").isEqualTo(200);

        slow.setSoTimeout(10_000); // the rest read at once: the server closes the connection after it (asked to)
        var in = slow.getInputStream();
        var buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) != -1; ) {
            received.write(buffer, 0, n);
        }
        String answer = received.toString(StandardCharsets.ISO_8859_1);
        assertThat(answer).as("the slow reader's answer: whole (charged its buffer), not compact, not cut")
                .startsWith("HTTP/1.1 422").contains("\"reason\":\"rrrr").doesNotContain("omitted").endsWith("}]}");
        assertThat(readByThen + 2_700_000).as("the server still writing it when the upload came: %d of %d read then, "
                + "the kernel's buffers holding some 2.6 MB", readByThen, answer.length()).isLessThan(answer.length());
    }

    @Test // a review: events not settled at the response timeout (a slow handler) hold the byte budget, so it is full just
          // then; sent compact, the whole answer's "not settled within 1 s; it may still be handled" went, and a bare
          // "retry" read as "not run": a client without a key sent them again, and each ran twice
    void aCompactAnswer_toEventsNotSettledInTime_saysEachMayHaveRun() throws Exception {
        var source = slowlyHandled();

        var answer = post(source, batchOf(200)); // at the least budget its whole answer (some 18 KB) does not fit

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(429);
        assertThat(answer.body()).as("compact, with results[], each saying it may have run")
                .startsWith("{\"results\":[{\"index\":0,\"status\":\"retry\",\"mayHaveRun\":true},{\"index\":1,")
                .contains(",{\"index\":199,\"status\":\"retry\",\"mayHaveRun\":true}],\"omitted\":")
                .doesNotContain("\"retry\"}");
    }

    @Test // the same when not even the compact answer fits (another body holds the budget): its counts said "no room",
          // and nothing of events to retry that may have run
    void theCountsOfEventsNotSettledInTime_sayThoseToRetryMayHaveRun() throws Exception {
        var source = slowlyHandled();
        upload(source, 2_500, "{\"id\":\"slow\","); // still arriving: 3 KiB of the budget held
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 1)).isTrue();

        var answer = post(source, batchOf(200));

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(429);
        assertThat(answer.body()).as("its counts, and that an event to retry may have run")
                .startsWith("{\"done\":0,\"rejected\":0,\"retry\":200,\"omitted\":\"each event's result: no room")
                .contains("may have been handled, resend it under the same Idempotency-Key");
    }

    /**
     * A source at the least byte budget for bodies of 4 KiB and batches of 200 (a body at the limit and the compact
     * answer to 200 events), answering at 1 s; its handler waits until the test ends (20 s at most).
     */
    private HttpSource slowlyHandled() {
        var source = HttpSource.builder().auth(IngestAuth.none()).maxBodyBytes(4_096).maxEventsPerRequest(200)
                .maxUploadBytes(1_024).responseTimeout(Duration.ofSeconds(1)).readTimeout(Duration.ofSeconds(30)).build()
                .start();
        opened.add(source);
        var release = new CountDownLatch(1);
        opened.add(Listener.builder(source, source, HttpSourceIT.DECODER, (event, delivery) -> {
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Outcome.done();
        }).config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(30))
                .shutdownDeadline(Duration.ofMillis(200)).build()).build().start());
        opened.add(release::countDown); // closed first: the handlers end before their listener stops
        return source;
    }

    /** A batch of {@code n} events, {@code {"id":"e7"}}: 200 of them are some 2.7 KB (charged 3 KiB). */
    private static String batchOf(int n) {
        var batch = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            batch.append(i == 0 ? "" : ",").append("{\"id\":\"e").append(i).append("\"}");
        }
        return batch.append("]").toString();
    }

    /** A single event whose body is {@code bytes} long. */
    private static String ofSize(String id, int bytes) {
        String start = "{\"id\":\"" + id + "\",\"type\":\"Good\",\"pad\":\"";
        return start + "x".repeat(bytes - start.length() - 2) + "\"}";
    }

    /** What a POST of {@code body} is answered, or -1 when its connection was closed while it was sent (refused). */
    private int status(HttpSource source, String body) {
        try {
            return post(source, body).statusCode();
        } catch (Exception closedWhileSending) {
            return -1;
        }
    }

    /**
     * Reads {@code socket} 16 KiB at a time, 200 ms apart, into {@code into} until stopped or closed: a slow but steady
     * reader, some 75 KiB a second. {@code begun} is counted down at its first bytes.
     */
    private static void readSlowly(Socket socket, ByteArrayOutputStream into, CountDownLatch begun, AtomicBoolean stop) {
        var buffer = new byte[16 * 1024];
        try {
            socket.setSoTimeout(500);
            var in = socket.getInputStream();
            while (!stop.get()) {
                int got = 0;
                // the 16 KiB whole, a few KiB a read as its small receive buffer hands them over: a read a turn was
                // some 40 KB a second, each 64 KiB of the answer took longer than the read timeout, and it was cut
                while (got < buffer.length && !stop.get()) {
                    int n;
                    try {
                        n = in.read(buffer, got, buffer.length - got);
                    } catch (SocketTimeoutException nothingNow) {
                        break;
                    }
                    if (n < 0) {
                        into.write(buffer, 0, got);
                        return;
                    }
                    got += n;
                }
                if (got > 0) {
                    into.write(buffer, 0, got);
                    begun.countDown();
                }
                Thread.sleep(200);
            }
        } catch (IOException | InterruptedException closed) {
            // closed at the test's end
        }
    }

    @Test // #16
    void uploadsBeyondTheLimit_get503AtOnce_andTheSlotsComeBack() throws Exception {
        var source = start(HttpSource.builder().auth(IngestAuth.none()).maxUploads(3).readTimeout(Duration.ofSeconds(30)));
        var slow = new ArrayList<Socket>();
        for (int i = 0; i < 3; i++) {
            slow.add(upload(source, 1000, "{\"id\":\"slow-" + i + "\","));
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 3)).isTrue();

        var excess = upload(source, 1000, "{\"id\":\"excess\",");
        excess.setSoTimeout(3_000);
        assertThat(head(excess)).startsWith("HTTP/1.1 503").containsIgnoringCase("Retry-After: 1");
        long start = System.nanoTime();
        var refused = post(source, "{\"id\":\"refused\",\"type\":\"Good\"}");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.body()).contains("too many requests being received at once");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));

        for (var socket : slow) {
            socket.close();
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 0)).isTrue();
        assertThat(post(source, "{\"id\":\"later\",\"type\":\"Good\"}").statusCode()).isEqualTo(200);
        assertThat(handled).containsExactly("later");
    }

    @Test
    void bodiesRefusedForTheirSize_areDrainedUnderTheUploadLimit_beyondItTheyGet503AtOnce() throws Exception {
        // a declared length over the limit was drained before an upload slot was taken: clients sending too much
        // (under HMAC, before any signature is checked) held as many threads as they liked, each for the read timeout
        var source = start(HttpSource.builder().auth(IngestAuth.none()).maxUploads(2).maxBodyBytes(1_000)
                .readTimeout(Duration.ofSeconds(30)));
        for (int i = 0; i < 2; i++) {
            upload(source, 5_000, "{\"id\":\"big-" + i + "\",");
        }
        assertThat(Await.until(Duration.ofSeconds(10), () -> source.uploading() == 2)).isTrue();
        var excess = upload(source, 5_000, "{\"id\":\"excess\",");
        excess.setSoTimeout(3_000);
        assertThat(head(excess)).startsWith("HTTP/1.1 503");
    }

    @Test
    void anAnswerTheClientNeverReads_hasItsConnectionClosedAfterTheTimeout_notHeldForEver() throws Exception {
        // writing the answer had no time limit: a large batch answer to a client that does not read it held a thread
        // for as long as the connection stayed open
        var source = HttpSource.builder().auth(IngestAuth.none()).readTimeout(Duration.ofSeconds(1)).build().start();
        opened.add(source);
        String reason = "r".repeat(60_000);
        opened.add(Listener.builder(source, source, HttpSourceIT.DECODER, (event, delivery) -> Outcome.reject(reason))
                .config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).lease(Duration.ofSeconds(30))
                        .shutdownDeadline(Duration.ofMillis(200)).build())
                .build().start());
        var body = new StringBuilder("[");
        for (int i = 0; i < 1_000; i++) { // the most a batch may hold: each reason is cut at 8,192 characters
            body.append(i == 0 ? "" : ",").append("{\"id\":\"e").append(i).append("\"}");
        }
        byte[] bytes = body.append("]").toString().getBytes(StandardCharsets.UTF_8);
        var socket = new Socket();
        sockets.add(socket);
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress("127.0.0.1", source.port()), 5_000);
        socket.getOutputStream().write(("POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        Thread.sleep(4_000); // not reading: the answer (8 MB) fills the buffers, and the server's write blocks

        socket.setSoTimeout(5_000);
        long received = 0;
        boolean closed = false;
        var buffer = new byte[65_536];
        try {
            for (int n; (n = socket.getInputStream().read(buffer)) != -1; ) {
                received += n;
            }
            closed = true;
        } catch (SocketException reset) {
            closed = true;
        } catch (SocketTimeoutException stillOpen) {
            closed = false;
        }
        assertThat(closed).as("the server gave up writing and closed the connection").isTrue();
        assertThat(received).as("the answer was cut off").isLessThan(1_000L * dev.ferry.domain.transport.Disposition.DeadLetter.MAX_REASON);
    }
}
