package dev.ferry.adapters.mvstore;

import dev.ferry.domain.model.FerryException;
import dev.ferry.domain.model.Thrown;
import java.nio.file.Path;
import java.util.Set;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStoreException;

/**
 * What H2 throws, as the ledger's callers are promised a store failure: a {@link FerryException}, retryable unless the
 * file is damaged. Let out as it was, a journal read failing for a moment was taken for a damaged note ("no dead letter
 * owed") and the message ran again; all taken as passing, a damaged page held every message whose note is on it for
 * ever, said "perhaps for a moment".
 */
final class StoreFailure {

    /** H2's errors that a retry does not mend: the file's own damage, or a format this H2 cannot read. */
    private static final Set<Integer> DAMAGE = Set.of(DataUtils.ERROR_FILE_CORRUPT, DataUtils.ERROR_CHUNK_NOT_FOUND,
            DataUtils.ERROR_BLOCK_NOT_FOUND, DataUtils.ERROR_UNSUPPORTED_FORMAT, DataUtils.ERROR_SERIALIZATION);

    private StoreFailure() {
    }

    static FerryException of(Path file, MVStoreException e) {
        if (DAMAGE.contains(e.getErrorCode())) {
            return new FerryException("ledger " + file + ": the store is damaged: " + Thrown.message(e), e, false);
        }
        return new FerryException("ledger " + file + ": the store failed, perhaps for a moment: " + Thrown.message(e), e,
                true);
    }
}
