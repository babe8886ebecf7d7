package dev.ferry.adapters.mvstore.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * H2's name for a file whose channel an interrupt does not close. A {@link FileChannel} that a
 * thread reads or writes while interrupted closes itself — for every thread using it — and H2 then
 * gives up the whole store: a ledger file opened again loses its last second's claims, and their
 * messages can run a second time beside the first. Any thread can be interrupted while it reads a
 * ledger page (a handler past the shutdown deadline, a plugin's pool shutting down); with this
 * scheme its read simply finishes, and the interrupt stays set for the caller to see.
 *
 * <p>Public only because H2 makes a path of each scheme by reflection; not Ferry's API.
 */
public final class UninterruptibleFilePath extends FilePathWrapper {

    private static final String SCHEME = "ferry-uninterruptible";

    static {
        FilePath.register(new UninterruptibleFilePath());
    }

    /** H2 makes one of these for every path of the scheme; use {@link #of}. */
    public UninterruptibleFilePath() {
    }

    /** The name under which H2 opens {@code file} with this scheme. */
    public static String of(Path file) {
        return SCHEME + ":" + file;
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return new UninterruptibleChannel(Path.of(getBase().toString()), mode);
    }
}
