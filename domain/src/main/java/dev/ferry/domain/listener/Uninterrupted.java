package dev.ferry.domain.listener;

import dev.ferry.domain.idempotency.Claim;
import dev.ferry.domain.idempotency.IdempotencyLedger;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * A ledger call that records an effect made, run with the thread's interrupt put aside and given back after. A handler
 * that answered past a stop's deadline keeps the stop's interrupt, and a ledger's client may refuse to call on an
 * interrupted thread (the AWS SDK aborts, the request unsent): the completion was never recorded, the owed one neither
 * (the same thread, the stop's last pass over them done), and the copy put back ran the effect again. An interrupt that
 * arrives during the call (the stop's, at the completer) is put aside too, and the call made once more.
 */
final class Uninterrupted {

    private Uninterrupted() {
    }

    static <T> T call(Supplier<T> call) {
        return call(call, call);
    }

    /**
     * The completion of {@code key}'s claim {@code token}, made as {@link #call} makes it. The SDK looks for an interrupt
     * after the answer came too: a first call cut short may have been applied, and the second is then refused (the claim
     * is no longer held) — reported fenced, a warning to extend a lease that was fine at every stop with a completion
     * under way. When the second is refused after a first cut short, the key completed (as the ledger tells,
     * {@link IdempotencyLedger#peek}) is taken as this completion.
     */
    static boolean complete(IdempotencyLedger ledger, String key, long token, Duration ttl) {
        return call(() -> ledger.complete(key, token, ttl),
                () -> ledger.complete(key, token, ttl) || ledger.peek(key).orElse(null) instanceof Claim.Completed);
    }

    private static <T> T call(Supplier<T> first, Supplier<T> again) {
        boolean interrupted = Thread.interrupted();
        try {
            try {
                return first.get();
            } catch (RuntimeException e) {
                if (!Thread.interrupted()) {
                    throw e;
                }
                interrupted = true; // cut short by an interrupt: once more without it
                return again.get();
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
