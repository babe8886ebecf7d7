package dev.ferry.adapters.http;

import java.util.List;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests an HTTP source refused before its listener saw them, by status: credentials missing, wrong or rotated
 * on one side only, a signature out of its window or replayed (401, 403); a body that is not events, or too large
 * (400, 413); a wrong path or method (404, 405); a request not read within the read timeout (408: a slow uplink, a
 * Content-Length over the body sent); too many at once, the endpoint full or stopping (429, 503). Such a refusal
 * showed in no metric and no warning: a producer whose token was rotated was refused every request while the source
 * stood ready and quiet, and its events were lost upstream once its own retries ran out. Counted for {@code
 * ferry_http_refused_total{source,status}}; refusals of credentials, and requests not read in time, warned of, each at
 * most once a minute. Thread-safe.
 */
public final class HttpRefusals {

    private static final Logger LOG = LoggerFactory.getLogger(HttpSource.class);

    /** The statuses counted, each a tag value of its own. */
    public static final List<Integer> STATUSES = List.of(400, 401, 403, 404, 405, 408, 413, 429, 503);

    private final String name;
    private final AtomicLongArray counts = new AtomicLongArray(STATUSES.size());
    private final RateLimitedWarning credentialsRefused = new RateLimitedWarning(Duration.ofMinutes(1), Runnable::run);
    /** Written on the thread that writes the 408 (see ReadDeadlines), never on the timer: a log may block. */
    private final RateLimitedWarning notReadInTime = new RateLimitedWarning(Duration.ofMinutes(1), Runnable::run);

    HttpRefusals(String name) {
        this.name = name;
    }

    /** Requests refused so far with {@code status} (0 for a status not counted). */
    public long refused(int status) {
        int i = STATUSES.indexOf(status);
        return i < 0 ? 0 : counts.get(i);
    }

    void count(int status, String reason) {
        int i = STATUSES.indexOf(status);
        if (i >= 0) {
            counts.incrementAndGet(i);
        }
        if (status == 408) {
            notReadInTime.count(1, total -> LOG.warn("HTTP source '{}' answered a request 408 ({}){}: its sender sends "
                    + "its bodies slower than read-timeout allows, or declares more than it sends; counted in "
                    + "ferry_http_refused_total", name, reason,
                    total == 1 ? "" : ", and " + (total - 1) + " more not read in time since the last warning"));
            return;
        }
        if (status != 401 && status != 403) {
            return;
        }
        credentialsRefused.count(1, total -> LOG.warn("HTTP source '{}' refused a request {} ({}){}: its sender's credentials or signatures are not accepted; "
                + "counted in ferry_http_refused_total", name, status, reason,
                total == 1 ? "" : ", and " + (total - 1) + " more refusals of credentials since the last warning"));
    }
}
