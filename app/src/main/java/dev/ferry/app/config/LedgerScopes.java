package dev.ferry.app.config;

import java.util.Map;
import java.util.Set;

/**
 * Sources whose event ids share a ledger scope without both saying so. A source's scope is its own name by
 * default, so a {@code ledger-scope} written as another source's name joins that source's ids: an id both
 * carry is handled once, by whichever source reads it first. That is what a written scope does, but only
 * one of the two files' sections says it; a copy-paste or a renamed source does it by accident.
 */
final class LedgerScopes {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("ferry");

    /** The formats whose ids are unique by nature: their sources' default scope is the shared one, not their name. */
    private static final Set<String> SHARED_BY_NATURE = Set.of("s3", "mturk", "sns+s3", "sns+mturk");

    private LedgerScopes() {
    }

    /** Warns of each written scope that is another source's name, and so that source's default scope. */
    static void warnBorrowed(Map<String, FerryConfig.SourceSpec> sources) {
        for (var source : sources.values()) {
            // 'shared' is the scope every source shares, not a source named so
            var owner = source.ledgerScope() == null || "shared".equals(source.ledgerScope()) ? null
                    : sources.get(source.ledgerScope());
            if (owner != null && owner != source && owner.ledgerScope() == null && !SHARED_BY_NATURE.contains(owner.format())) {
                LOG.warn("source '{}' has ledger-scope: {}, the name of source '{}', whose default scope it is: an event id "
                                + "both carry is handled once, by whichever reads it first; if they really carry the same "
                                + "events, write ledger-scope: {} on source '{}' too (or name another scope for '{}')",
                        source.name(), source.ledgerScope(), owner.name(), source.ledgerScope(), owner.name(), source.name());
            }
        }
    }
}
