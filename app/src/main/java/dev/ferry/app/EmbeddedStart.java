package dev.ferry.app;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The embedded SQS server starting on a thread of its own, so that a local run loads the rest of
 * Ferry meanwhile. {@link #await} gives the server, or throws what its start threw, as it was.
 */
final class EmbeddedStart {

    private final CompletableFuture<EmbeddedSqs> started = new CompletableFuture<>();

    private EmbeddedStart() {
    }

    static EmbeddedStart begin(int port) {
        var start = new EmbeddedStart();
        Thread.ofPlatform().daemon().name("ferry-embedded-sqs-start").start(() -> {
            try {
                start.started.complete(EmbeddedSqs.start(port));
            } catch (Throwable e) { // an Error too (a class missing from a slim jar): the run's start fails with it
                start.started.completeExceptionally(e);
            }
        });
        return start;
    }

    /** Waits for the server; its start's own exception or error if it failed. */
    EmbeddedSqs await() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return started.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the server is coming up either way: wait for it, so that it is stopped
                } catch (ExecutionException e) {
                    switch (e.getCause()) {
                        case RuntimeException r -> throw r;
                        case Error err -> throw err;
                        default -> throw new IllegalStateException("the embedded SQS server did not start", e.getCause());
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
