package dev.ferry.app.config;

import java.nio.file.Path;

/** A path as a configuration writes it: {@code ~} is the home directory, as for the ledger's path. */
public final class FilePaths {

    private FilePaths() {
    }

    /** {@code path}, a leading {@code ~} (or {@code ~/...}) read as the home directory — not a folder named "~". */
    public static Path of(String path) {
        if (path.equals("~") || path.startsWith("~/") || path.startsWith("~" + java.io.File.separator)) {
            return Path.of(System.getProperty("user.home") + path.substring(1));
        }
        return Path.of(path);
    }
}
