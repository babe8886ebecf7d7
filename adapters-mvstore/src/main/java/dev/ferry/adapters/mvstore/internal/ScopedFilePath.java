package dev.ferry.adapters.mvstore.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.function.Supplier;
import org.h2.store.fs.FilePathWrapper;

/**
 * H2's name for a file (under any scheme: Ferry's, a test's) whose channels, opened on a thread while an opening of a
 * store is under way there, are given to that opening — what each scheme does with them is its own. H2 opens a
 * store's file on the caller's thread, in the store's constructor, and tells its file system nothing of which store a
 * channel is for: the thread is all that ties a channel to the opening that asked for it. A channel opened with no
 * opening under way on its thread (another thread, a test's store) is the base channel as it is.
 *
 * <p>H2 makes a path of the scheme for each file name by reflection (the public class's public constructor taking
 * nothing): what a scheme keeps is static, one {@link Scope} for all its paths, handed to this constructor.
 *
 * @param <S> what the opening under way on a thread keeps of the channels opened for it
 */
abstract class ScopedFilePath<S> extends FilePathWrapper {

    private final String scheme;
    private final Scope<S> scope;

    ScopedFilePath(String scheme, Scope<S> scope) {
        this.scheme = scheme;
        this.scope = scope;
    }

    /** H2's name under {@code scheme} for the file it knows as {@code name} (any scheme's). */
    static String named(String scheme, String name) {
        return scheme + ":" + name;
    }

    @Override
    public final String getScheme() {
        return scheme;
    }

    @Override
    public final FileChannel open(String mode) throws IOException {
        var channel = getBase().open(mode);
        var opening = scope.current.get();
        if (opening == null) {
            return channel;
        }
        try {
            return opened(channel, opening);
        } catch (Throwable e) { // an Error (no memory to wrap it or note it): given to no one, it held the file's lock
            closeInto(channel, e);
            throw e;
        }
    }

    /** The channel H2 is given for {@code channel}, opened for {@code opening}, the one under way on this thread. */
    abstract FileChannel opened(FileChannel channel, S opening);

    /** Closes {@code channel} as {@code failure} is thrown; what closing it throws is added to that failure. */
    static void closeInto(FileChannel channel, Throwable failure) {
        try {
            channel.close();
        } catch (IOException | RuntimeException | Error alsoFailed) {
            // the same Error again (the JVM's preallocated OutOfMemoryError), added to itself: IllegalArgumentException
            // thrown in its place, the failure lost and the channels after this one left open
            if (alsoFailed != failure) {
                failure.addSuppressed(alsoFailed);
            }
        }
    }

    /**
     * The opening under way on each thread for one scheme, if any. Openings may nest on a thread: once the inner one
     * ends, the outer one is under way again.
     */
    static final class Scope<S> {

        private final ThreadLocal<S> current = new ThreadLocal<>();

        /** Runs {@code opening} as this thread's opening under way, keeping {@code state}; returns what it does. */
        <T> T run(S state, Supplier<T> opening) {
            var outer = current.get();
            current.set(state);
            try {
                return opening.get();
            } finally {
                if (outer == null) {
                    current.remove(); // left set, a pooled thread's later channels were taken for a finished opening's
                } else {
                    current.set(outer);
                }
            }
        }
    }
}
