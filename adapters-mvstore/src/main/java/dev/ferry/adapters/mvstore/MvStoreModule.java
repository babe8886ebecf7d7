package dev.ferry.adapters.mvstore;

import dagger.Module;
import dagger.Provides;
import dagger.multibindings.IntoMap;
import dagger.multibindings.StringKey;
import dev.ferry.domain.spi.LedgerProvider;
import java.nio.file.Path;

/**
 * The MVStore ledger's contribution to the app: {@code ledger: {kind: mvstore, path: FILE, fsync: BOOL}},
 * a ledger in one local file that survives restarts (one process at a time).
 */
@Module
public final class MvStoreModule {

    private MvStoreModule() {
    }

    @Provides
    @IntoMap
    @StringKey("mvstore")
    public static LedgerProvider mvstoreLedger() {
        return settings -> {
            var path = ledgerPath(settings.string("path", "ferry-ledger.db"));
            // each group commit forced to the disk itself: a completion then survives a power cut, not only a kill
            boolean fsync = settings.flag("fsync", false);
            return context -> {
                if (context != null && context.existingOnly() && !java.nio.file.Files.exists(path)) {
                    throw new dev.ferry.domain.model.FerryException("no ledger at " + path.toAbsolutePath() + " (nothing has "
                            + "run with this configuration here; a relative ledger.path is taken from the directory "
                            + "the command runs in)", false);
                }
                return MvStoreLedger.builder(path).fsync(fsync).build();
            };
        };
    }

    /**
     * The ledger's file: a leading {@code ~} is the home directory, as the store itself (H2) takes it —
     * looked for as written, a ledger the listener kept at {@code ~/ferry/ledger.db} was "not there" for
     * the commands that only open an existing one.
     */
    static Path ledgerPath(String path) {
        if (path.equals("~") || path.startsWith("~/") || path.startsWith("~" + java.io.File.separator)) {
            return Path.of(System.getProperty("user.home") + path.substring(1));
        }
        return Path.of(path);
    }
}
