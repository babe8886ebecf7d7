package dev.ferry.app;

import dev.ferry.app.config.FilePaths;
import dev.ferry.domain.spi.LedgerProvider;
import dev.ferry.domain.spi.Settings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The file an {@code mvstore} ledger's {@code path} names, noted as the ledger's own provider reads it while the
 * configuration is read: its default ({@code ferry-ledger.db}) and {@code ${VAR}}s are the provider's, so the file
 * named here cannot drift from the file the ledger opens. The commands that open the ledger themselves
 * ({@link AskRunningFerry}) refuse a relative one and name the file that answered.
 */
final class LedgerFileNamed {

    private static final String KIND = "mvstore";

    /** The ledger's {@code path} as its provider read it; null until then, and for any other ledger kind. */
    private String path;

    /** {@code component}, whose {@code mvstore} ledger notes its path here as a configuration is read with it. */
    FerryComponent noting(FerryComponent component) {
        var adapters = component.adapters();
        var ledgers = new HashMap<>(adapters.ledgers());
        LedgerProvider mvstore = ledgers.get(KIND);
        if (mvstore != null) {
            ledgers.put(KIND, section -> mvstore.configure(new Noting(section)));
        }
        var noted = new Adapters(adapters.sources(), adapters.sinks(), ledgers, adapters.pluginsMissing());
        return new FerryComponent() {
            @Override
            public Adapters adapters() {
                return noted;
            }

            @Override
            public RunComponent.Factory run() {
                return component.run();
            }
        };
    }

    /**
     * The ledger's file as the ledger takes it (a leading {@code ~} is the home directory), not yet resolved: a
     * relative one is the directory the command runs in. Null when the configuration read has no {@code mvstore} ledger.
     */
    Path file() {
        return path == null ? null : FilePaths.of(path);
    }

    /** The ledger's section as it is, its {@code path} noted when the ledger reads it. */
    private final class Noting implements Settings {

        private final Settings section;

        Noting(Settings section) {
            this.section = section;
        }

        @Override
        public String string(String key, String fallback) {
            String value = section.string(key, fallback);
            if (key.equals("path")) {
                path = value;
            }
            return value;
        }

        @Override
        public String name() {
            return section.name();
        }

        @Override
        public String required(String key) {
            return section.required(key);
        }

        @Override
        public String oneOf(String key, String fallback, Set<String> allowed) {
            return section.oneOf(key, fallback, allowed);
        }

        @Override
        public int integer(String key, int fallback, int min, int max) {
            return section.integer(key, fallback, min, max);
        }

        @Override
        public boolean flag(String key, boolean fallback) {
            return section.flag(key, fallback);
        }

        @Override
        public Duration duration(String key, Duration fallback) {
            return section.duration(key, fallback);
        }

        @Override
        public InetSocketAddress hostPort(String key, String fallback) {
            return section.hostPort(key, fallback);
        }

        @Override
        public List<String> strings(String key) {
            return section.strings(key);
        }

        @Override
        public Map<String, String> map(String key) {
            return section.map(key);
        }

        @Override
        public void problem(String key, String message) {
            section.problem(key, message);
        }
    }
}
