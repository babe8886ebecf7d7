package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileStoreAttributeView;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileMountsTest {

    @TempDir
    Path dir;

    @Test // a last look: file systems were compared by FileStore.equals, device numbers too — a btrfs subvolume (its own
          // number, no mount of its own) had its parent's store counted as one above it, and was refused until a restart
    void aSubvolumesDirectory_deleted_isMadeAgain_itsParentIsTheSameMount() throws IOException {
        var sub = Files.createDirectories(dir.resolve("home").resolve("ferry"));
        Function<Path, Object> stores = p -> FileMounts.mountOf(p.startsWith(sub) ? new Unix("/", "/dev/sda2", 41)
                : new Unix("/", "/dev/sda2", 35)); // the subvolume's own device number, under the same mount
        var mounts = new FileMounts(stores);
        mounts.note(sub);
        Files.delete(sub);

        mounts.makeAgain(sub);

        assertThat(sub).isDirectory();
    }

    @Test // a last look: nested NFS or FUSE volumes — the outer one mounted again (a new device number) before the inner
          // one: it passed for another file system, and the directory was made under the inner one's empty mount point
    void aVolumeWithinAVolume_theOuterBackWithANewDevice_theInnerNot_isNotWrittenUnder() throws IOException {
        theOuterBackFirst_isNotWrittenUnderTheInner(new Unix("/srv", "nfs:/srv", 60), new Unix("/srv", "nfs:/srv", 70));
    }

    @Test // a review: compared by mount point and what is mounted — a disk that drops and comes back is found again
          // under a new name (/dev/sdd1, even from an fstab UUID= line), autofs NFS from the other server: missed too
    void aVolumeWithinAVolume_theOuterBackUnderANewDeviceName_theInnerNot_isNotWrittenUnder() throws IOException {
        theOuterBackFirst_isNotWrittenUnderTheInner(new Unix("/srv", "/dev/sdb1", 60),
                new Unix("/srv", "/dev/sdd1", 70));
    }

    /** Volumes at /srv and /srv/data, both gone (umount -l), {@code outerBack} mounted at /srv before the inner one. */
    private void theOuterBackFirst_isNotWrittenUnderTheInner(FileStore outerAtOpen, FileStore outerBack)
            throws IOException {
        var srv = dir.resolve("srv");
        var data = srv.resolve("data");
        var ferry = Files.createDirectories(data.resolve("ferry"));
        var outer = new AtomicReference<FileStore>(outerAtOpen);
        var inner = new AtomicReference<FileStore>(new Unix("/srv/data", "nfs:/data", 61));
        Function<Path, Object> stores = p -> FileMounts.mountOf(p.startsWith(data) ? inner.get()
                : p.startsWith(srv) ? outer.get() : new Unix("/", "/dev/sda1", 2));
        var mounts = new FileMounts(stores);
        mounts.note(ferry);

        outer.set(outerBack); // /srv/data its empty directory
        inner.set(outer.get());
        Files.delete(ferry);

        assertThatThrownBy(() -> mounts.makeAgain(ferry)).isInstanceOf(FileSystemException.class)
                .hasMessageContaining("another file system");
        assertThat(ferry).as("not made under the inner volume's mount point").doesNotExist();
    }

    @Test // a last look: a note whose ask failed (the directory gone meanwhile) forgot what was noted, and the mount point
          // left empty by an unmounted volume was then written to
    void aNoteThatCannotAsk_keepsWhatWasNoted() throws IOException {
        var data = Files.createDirectories(dir.resolve("data"));
        var volume = new AtomicReference<Object>("vol");
        var asks = new AtomicReference<Boolean>(true);
        var mounts = new FileMounts(p -> !asks.get() ? null : p.startsWith(data) ? volume.get() : "root");
        mounts.note(data);
        asks.set(false);
        mounts.note(data); // after a rotated reopen: its directory removed in between

        asks.set(true);
        volume.set("root"); // unmounted: the mount point's empty directory shows

        assertThatThrownBy(() -> mounts.makeAgain(data)).isInstanceOf(FileSystemException.class);
    }

    @Test
    void aStoresMount_isItsMountPoint_notItsDeviceNumberNorWhatIsMounted() throws IOException {
        // what is mounted was part of it: a remount can rename that (see the test above), the mount point stays
        assertThat(FileMounts.mountOf(new Unix("/srv", "nfs:/srv", 1))).isEqualTo("/srv")
                .isEqualTo(FileMounts.mountOf(new Unix("/srv", "nfs:/srv", 2)))
                .isEqualTo(FileMounts.mountOf(new Unix("/srv", "nfs:/other", 1)))
                .isNotEqualTo(FileMounts.mountOf(new Unix("/srv/data", "nfs:/srv", 1)));
        assertThat(FileMounts.mountOf(new Unix("/srv", "nfs:/a (b)", 1))).as("a name with parentheses")
                .isEqualTo("/srv");
        assertThat(FileMounts.mountOf(new Unix("/srv", "", 1))).as("an empty name").isEqualTo("/srv");
        assertThat(FileMounts.mountOf(new Unix("/mnt/a (b)", "x", 1))).as("a mount point with them")
                .isEqualTo("/mnt/a (b)");
        var real = Files.getFileStore(dir);
        assertThat(real.toString()).as("a real one, as the JDK names it: its mount point, then what is mounted")
                .isEqualTo(FileMounts.fileStore(dir) + " (" + real.name() + ")");
        assertThat(FileMounts.fileStore(dir.resolve("not-there"))).as("not known").isNull();
    }

    /** A file store as the JDK's on Linux: equal by device number and mount entry, named by the entry. */
    private static final class Unix extends FileStore {
        private final String mountPoint;
        private final String device;
        private final long number;

        Unix(String mountPoint, String device, long number) {
            this.mountPoint = mountPoint;
            this.device = device;
            this.number = number;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Unix u && u.number == number && u.mountPoint.equals(mountPoint)
                    && u.device.equals(device);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(number) * 31 + mountPoint.hashCode();
        }

        @Override
        public String toString() {
            return mountPoint + " (" + device + ")";
        }

        @Override
        public String name() {
            return device;
        }

        @Override
        public String type() {
            return "test";
        }

        @Override
        public boolean isReadOnly() {
            return false;
        }

        @Override
        public long getTotalSpace() {
            return 0;
        }

        @Override
        public long getUsableSpace() {
            return 0;
        }

        @Override
        public long getUnallocatedSpace() {
            return 0;
        }

        @Override
        public boolean supportsFileAttributeView(Class<? extends FileAttributeView> type) {
            return false;
        }

        @Override
        public boolean supportsFileAttributeView(String name) {
            return false;
        }

        @Override
        public <V extends FileStoreAttributeView> V getFileStoreAttributeView(Class<V> type) {
            return null;
        }

        @Override
        public Object getAttribute(String attribute) {
            return null;
        }
    }
}
