package dev.ferry.adapters.mvstore;

import dev.ferry.domain.idempotency.Claim;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Run in a child JVM by {@link MvStoreLedgerRestartIT}: claims and completes keys one after the
 * other and prints "completed KEY TOKEN" after each completion returned, until it is killed; with "persist", claims
 * keys and prints "persisted KEY" once {@link MvStoreLedger#persist} returned.
 */
public final class LedgerChild {

    private LedgerChild() {
    }

    public static void main(String[] args) {
        var ledger = MvStoreLedger.open(Path.of(args[0]));
        if (args.length > 1 && args[1].equals("persist")) { // claims made to outlive the process: "persisted KEY"
            for (int i = 0; ; i++) {
                String key = "decoding:orders:" + i;
                if (ledger.claim(key, Duration.ofHours(1)) instanceof Claim.Acquired && ledger.persist()) {
                    System.out.println("persisted " + key);
                    System.out.flush();
                }
            }
        }
        for (int i = 0; ; i++) {
            String key = "doc-" + i + "#0";
            if (ledger.claim(key, Duration.ofSeconds(30)) instanceof Claim.Acquired a
                    && ledger.complete(key, a.token(), Duration.ofDays(1))) {
                System.out.println("completed " + key + " " + a.token());
                System.out.flush();
            }
        }
    }
}
