package dev.ferry.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;

/**
 * Where a file sink's directory is: its file system, and the file systems above it that are not its own — what shows
 * should a mount go (umount -l of the directory's volume, or of one above it: a volume within a volume). A file sink
 * whose file is gone makes its directory again and reopens the file, but not where one of those shows now: the
 * volume's mount point, left empty on the disk below, took lines forced and acknowledged, hidden once the volume was
 * mounted again. Any other file system is no bar: a volume mounted again (a FUSE or NFS one gets a new device number),
 * or mounted late, was refused for ever. File systems are told apart by their mount points (see {@link #mountOf}).
 * Noted at the open, and again where a reopen landed. Not thread-safe: the sink's lock guards it.
 */
final class FileMounts {

    private final Function<Path, Object> storeOf;
    /** The directory's file system; null when it could not be asked. */
    private Object store;
    private Set<Object> above = Set.of();

    /** {@code storeOf}: the file system a path is on, null when not known (a test's own, or {@link #fileStore}). */
    FileMounts(Function<Path, Object> storeOf) {
        this.storeOf = storeOf;
    }

    static Object fileStore(Path p) {
        try {
            return mountOf(Files.getFileStore(p));
        } catch (IOException unknown) {
            return null;
        }
    }

    /**
     * A file system by its mount point ({@code /srv}): its {@code toString} without the {@code " (" + name() + ")"}
     * the JDK ends it with on Linux and macOS ({@code /srv (/dev/sdb1)}); the whole of it where it does not end so.
     * Not by {@link java.nio.file.FileStore#equals}, which compares device numbers too. A FUSE or NFS volume mounted
     * again has a new one: the outer of two such volumes, back before the inner one, passed for another file system,
     * and the directory was made under the inner one's mount point, its lines hidden once that was back. Nor by what
     * is mounted, which a remount can rename as well: a disk that drops and comes back is found again as /dev/sdd1,
     * even from an fstab UUID= line, an NFS volume under autofs comes back from the other server; the mount point is
     * the one thing that stays. And a btrfs subvolume has its own number, no mount of its own: its parent's store
     * counted as one above it, and its directory, deleted, was refused until a restart, as "a volume unmounted?".
     */
    static String mountOf(java.nio.file.FileStore store) {
        String named = store.toString();
        // cut by the name itself, not at the first " (" or last ")": a name can hold parentheses, or be empty
        String from = " (" + store.name() + ")";
        return named.endsWith(from) ? named.substring(0, named.length() - from.length()) : named;
    }

    /** Notes where {@code dir} is now; what was noted stays when it cannot be asked (the directory gone meanwhile). */
    void note(Path dir) {
        Object now = storeOf.apply(dir);
        if (now == null && store != null) {
            return;
        }
        store = now;
        var others = new HashSet<Object>();
        for (Path up = dir.getParent(); up != null && store != null; up = up.getParent()) {
            others.add(storeOf.apply(up));
        }
        others.remove(store);
        others.remove(null);
        above = others;
    }

    /**
     * Makes {@code dir} again when it is gone, and says whether the file may be opened there: a
     * {@code FileSystemException} (not one that says "for good": events wait, as on a failing disk) where a file system
     * from above shows now, or where the directory is gone and its own was never known.
     */
    void makeAgain(Path dir) throws IOException {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && (above.contains(storeOf.apply(existing)) || store == null && !existing.equals(dir))) {
            throw new java.nio.file.FileSystemException(dir.toString(), null, "on another file system than at the "
                    + "open (a volume unmounted?): not written there");
        }
        Files.createDirectories(dir);
    }
}
