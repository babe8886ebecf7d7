package dev.ferry.domain.spi;

import dev.ferry.domain.idempotency.IdempotencyLedger;

/** Reads the settings of one ledger kind ({@code kind: mvstore}) into a plan. */
@FunctionalInterface
public interface LedgerProvider {

    Plan<IdempotencyLedger> configure(Settings settings);
}
