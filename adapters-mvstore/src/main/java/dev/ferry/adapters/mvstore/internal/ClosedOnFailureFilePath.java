package dev.ferry.adapters.mvstore.internal;

import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.h2.store.fs.FilePath;

/**
 * H2's name for a file (under any scheme: Ferry's, a test's) whose channels, opened while an H2 store is opened by it, are
 * closed when that opening throws. H2 closes what it opened for its own failures only ({@code MVStoreException}): an
 * {@code Error} as it read the file's header (no memory for a page) left the channel open, and the file's lock with it —
 * the JVM refuses a second lock on a file one of its channels holds, so every later opening of the ledger in this process
 * was refused "the file is locked (another process has it open)", claims and completions failing until a restart.
 * The channel itself is handed to H2 as it is: nothing is added to its reads and writes.
 *
 * <p>Public only because H2 makes a path of each scheme by reflection; not Ferry's API.
 */
public final class ClosedOnFailureFilePath extends ScopedFilePath<List<FileChannel>> {

    private static final String SCHEME = "ferry-closed-on-failure";
    /** The channels opened by the opening under way on this thread; above the registration, which is made with it. */
    private static final Scope<List<FileChannel>> OPENING = new Scope<>();

    static {
        FilePath.register(new ClosedOnFailureFilePath());
    }

    /** H2 makes one of these for every path of the scheme; use {@link #of}. */
    public ClosedOnFailureFilePath() {
        super(SCHEME, OPENING);
    }

    /** The name under which H2 opens the file it knows as {@code name} (any scheme's), closed if its opening fails. */
    public static String of(String name) {
        return named(SCHEME, name);
    }

    /**
     * Runs {@code opening} (an H2 store opened by a name of this scheme) and returns what it does; whatever it throws,
     * each channel H2 opened on this thread meanwhile is closed first (closed already, as H2 closes one it refused: no
     * matter), letting go of the file's lock.
     */
    public static <T> T closingOnFailure(Supplier<T> opening) {
        var opened = new ArrayList<FileChannel>(1);
        try {
            return OPENING.run(opened, opening);
        } catch (Throwable e) {
            for (var channel : opened) {
                closeInto(channel, e);
            }
            throw e;
        }
    }

    @Override
    FileChannel opened(FileChannel channel, List<FileChannel> opened) {
        opened.add(channel);
        return channel;
    }
}
