package dev.ferry.adapters.mvstore;

import java.nio.file.Path;

/** Run in a child JVM by {@link LedgerFileTest}: another Ferry opening the ledger file; prints what happened. */
public final class LedgerOpenChild {

    private LedgerOpenChild() {
    }

    public static void main(String[] args) {
        try (var ledger = MvStoreLedger.open(Path.of(args[0]))) {
            System.out.println("opened " + ledger.getClass().getSimpleName());
        } catch (RuntimeException e) {
            System.out.println("refused: " + e.getMessage());
        }
    }
}
