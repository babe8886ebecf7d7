package dev.ferry.adapters.http;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One publish's place among the {@link HttpSink}'s {@code maxConcurrent} requests, given back exactly once: by the
 * publish when it ends, or — once it was answered 2xx — by that answer's body, when the body ends, fails or is
 * given up at the timeout. A 2xx is taken at its status line, but on HTTP/1.1 its connection goes back to the JDK's
 * pool only when its body ends: given back with the status line, the place let the next publish open a connection of
 * its own while this one drained, and an endpoint whose 200 sent its body slowly, or never, held one connection per
 * event for the timeout — rate × timeout of them, where at most {@code maxConcurrent} were promised.
 *
 * <p>A publish's attempts run one after another on its own thread; their bodies end on the client's.
 */
final class SinkPermit {

    private final SinkPlaces places;
    /** Who gives the place back: null while the publish does, then the 2xx's {@link Body}; this once it is back. */
    private final AtomicReference<Object> holder = new AtomicReference<>();
    private Body latest; // the attempt under way's: the publishing thread's alone

    /**
     * For a place among {@code places}, made before the publish takes it: an allocation that threw between the taking
     * and the {@code try} that gives it back kept it for good.
     */
    SinkPermit(SinkPlaces places) {
        this.places = places;
    }

    /** How the next attempt reads its answer ({@link AnswerBodies}): a 2xx's body may be passed the place. */
    HttpResponse.BodyHandler<byte[]> bodies(Duration timeout) {
        var body = new Body();
        latest = body;
        return info -> AnswerBodies.of(info.statusCode(), timeout, body);
    }

    /**
     * The answer that came to the attempt under way, returned as it is; if a 2xx, its body gives the place back from
     * now on. Not before the answer came: the body of an attempt the publish gave up on (its timeout, an interrupt)
     * ended when it would, and gave back a place the publish gave back too — or one a later attempt was still using.
     */
    HttpResponse<byte[]> passedToItsBody(HttpResponse<byte[]> answer) {
        var body = latest;
        if (body.draining) {
            places.heldByABody(); // counted first: the body may end, and give it back, the moment it has it
            if (!holder.compareAndSet(null, body)) {
                places.notHeldByABody(); // not passed on (given back already): not counted either
            } else if (body.ended) {
                body.giveBack(); // it ended before it was passed the place, and gave nothing back then: given back here
            }
        }
        return answer;
    }

    /** At the publish's end, a throw's too: the place given back, unless a 2xx's body has it. */
    void giveBackUnlessPassedOn() {
        if (holder.compareAndSet(null, this)) {
            places.giveBack();
        }
    }

    /** One attempt's answer's body: a 2xx's, drained behind its status line, gives the place back when it ends. */
    final class Body {
        private volatile boolean draining;
        private volatile boolean ended;

        private Body() {
        }

        /** A 2xx came: this body is drained behind it, and its connection is busy until it ends. */
        void draining() {
            draining = true;
        }

        /**
         * The body ended, failed or was given up (called once or more): the place given back if it was passed it. A
         * body it was not passed to gives nothing back: the publish gives it back, or a later attempt is using it.
         */
        void ended() {
            ended = true; // first: a hand-over that comes after it sees it, and gives the place back itself
            giveBack();
        }

        /**
         * The body did not end within the timeout, and was given up ({@link #ended} told already): said, at most once a
         * minute, and while its places are held by bodies, so ({@link SinkPlaces#holdingBack}).
         */
        void givenUp() {
            places.bodyGivenUp();
        }

        private void giveBack() {
            if (holder.compareAndSet(this, SinkPermit.this)) {
                places.givenBackByABody();
            }
        }
    }
}
