package dev.ferry.domain.listener;

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
        boolean interrupted = Thread.interrupted();
        try {
            try {
                return call.get();
            } catch (RuntimeException e) {
                if (!Thread.interrupted()) {
                    throw e;
                }
                interrupted = true; // cut short by an interrupt: once more without it
                return call.get();
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
