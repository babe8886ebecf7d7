package dev.ferry.app;

import dev.ferry.app.config.FerryConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that reads the configuration, then asks the Ferry that runs with it on its admin address
 * (which holds the ledger: an MVStore file is one process's) or, when nothing answers there, opens
 * the ledger itself: {@code ferry groups ...}, {@code ferry events show}. A ledger file it opens itself
 * must be named by an absolute path, and its answer names that file: a relative one is whatever file of
 * that name lies where the command runs.
 */
abstract class AskRunningFerry implements Callable<Integer> {

    protected final Ferry.Io io;

    @Spec
    protected CommandSpec spec;

    @Mixin
    protected ConfigFileOption config;

    AskRunningFerry(Ferry.Io io) {
        this.io = io;
    }

    /** The command's own checks of its options, before anything is asked or opened; throws a picocli usage error. */
    void checkOptions() {
    }

    @Override
    public final Integer call() throws Exception {
        checkOptions();
        var named = new LedgerFileNamed();
        FerryConfig read = config.read(named.noting(config.component()));
        if (read == null) {
            return Ferry.USAGE;
        }
        var admin = read.admin().listen();
        var base = admin == null ? null : URI.create("http://" + Loopback.uriHost(admin.host()) + ":" + admin.port());
        if (admin != null) {
            try (var http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
                return remote(read, http, base);
            } catch (HttpConnectTimeoutException busy) {
                // something is there but does not answer: doing it here too could run a release twice
                io.err().println("ferry: " + base + " did not answer within 2 s; is the running Ferry overloaded? try again");
                return Ferry.FAILED;
            } catch (ConnectException nobodyThere) {
                // no Ferry runs with this configuration: do it here
            } catch (IllegalArgumentException | ClassCastException | NullPointerException notFerry) {
                // its message may quote what answered (the parser's "Unrecognized token '...'")
                io.err().println("ferry: what answers on " + base + " is not a Ferry admin endpoint ("
                        + Printable.of(Thrown.message(notFerry)) + "); is admin.listen right?");
                return Ferry.FAILED;
            }
        }
        if ("memory".equals(read.ledger().kind())) {
            // a new, empty memory ledger here said "nothing is known of event K (never seen)" of what the running Ferry
            // had done: an operator who believed it sent the event again
            io.err().println("ferry: ledger: memory lives in the running Ferry's process, and none answered on "
                    + (admin == null ? "an admin address (admin.listen is off)" : "http://" + Loopback.uriHost(admin.host())
                    + ":" + admin.port()) + "; nothing of it can be read from here");
            return Ferry.USAGE;
        }
        String unanswered = base == null ? "admin.listen is off" : "nothing answered on " + base;
        var file = "mvstore".equals(read.ledger().kind()) ? named.file() : null;
        if (file != null && !file.isAbsolute()) {
            // a review: resolved in the directory the command runs in, any file of that name there (the quickstart's,
            // another pipeline's) answered — "never seen" of an event the Ferry had handled, and it was sent again
            io.err().println("ferry: ledger.path " + Printable.of(file) + " is relative, and " + unanswered
                    + ": read from here it would be " + Printable.of(file.toAbsolutePath()) + ", whichever ledger that "
                    + "is; give ledger.path as an absolute path, or ask the running Ferry (admin.listen, its admin address)");
            return Ferry.USAGE;
        }
        String source = sourceOption();
        if (source != null && !read.sources().containsKey(source)) {
            // done here, by this file's sources (a running Ferry's are its own, its 400 exit 2 as this is)
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "no source named '" + source
                    + "' (sources: " + read.sources().keySet() + ")");
        }
        try (var context = new RunContext(read, false).forExistingOnly()) {
            var ledger = read.ledger().plan().open(context);
            try {
                if (file != null) { // on standard error: standard output may be --json, read by a script
                    io.err().println("ferry: answered here, from the ledger file " + Printable.of(file) + " (" + unanswered + ")");
                }
                return local(read, ledger, context);
            } finally {
                if (ledger instanceof AutoCloseable c) {
                    c.close();
                }
            }
        }
    }

    /**
     * Sends {@code request} and reads its whole answer within the request's timeout (30 s when it has none).
     * The JDK's own timeout ends once the headers arrive: a body that stalled after them held the command
     * until Ctrl-C.
     */
    static java.net.http.HttpResponse<String> send(HttpClient http, java.net.http.HttpRequest request)
            throws IOException, InterruptedException {
        var limit = request.timeout().orElse(Duration.ofSeconds(30));
        var answer = http.sendAsync(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        try {
            return answer.get(dev.ferry.domain.model.Durations.millis(limit), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            answer.cancel(true);
            throw new java.net.http.HttpTimeoutException(request.uri() + " did not answer in full within "
                    + dev.ferry.domain.model.Durations.text(limit));
        } catch (InterruptedException e) {
            answer.cancel(true);
            throw e;
        } catch (java.util.concurrent.ExecutionException e) {
            switch (e.getCause()) { // as send() throws them: a refused connection still means no Ferry runs here
                case IOException io -> throw io;
                case RuntimeException re -> throw re;
                case Error error -> throw error;
                default -> throw new IOException(e.getCause());
            }
        }
    }

    /** The command's {@code --source}, checked against the configuration's sources before anything is asked; null: none. */
    String sourceOption() {
        return null;
    }

    /** Asks the running Ferry at {@code admin}; a refused connection means none runs. */
    abstract int remote(FerryConfig config, HttpClient http, URI admin) throws IOException, InterruptedException;

    /** Does it here, on the configuration's ledger. */
    abstract int local(FerryConfig config, Object ledger, RunContext context) throws Exception;

    /**
     * A request to the running Ferry, with the admin token when the configuration has one: a read from
     * this host is open only by a loopback name, and {@code admin.listen} may name another.
     */
    static java.net.http.HttpRequest.Builder request(FerryConfig config, URI uri) {
        var request = java.net.http.HttpRequest.newBuilder(uri);
        if (config.admin().token() != null) {
            request.header("Authorization", "Bearer " + config.admin().token());
        }
        return request;
    }

    /** A non-2xx answer of the running Ferry: its error, and exit 1. */
    int failed(HttpResponse<String> response) {
        // what answers on the admin address may be no Ferry (a proxy's error page): its body is printed made safe
        io.err().println("ferry: the running Ferry answered " + response.statusCode() + ": "
                + Printable.of(response.body().strip()));
        // a 400 is the command line's fault (a source it lacks, a malformed value): asked again, it is refused again
        return response.statusCode() == 400 ? Ferry.USAGE : Ferry.FAILED;
    }
}
