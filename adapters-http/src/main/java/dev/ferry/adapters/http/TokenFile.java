package dev.ferry.adapters.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A token file, re-read when its modification time, size or identity changes (rotated credentials), and at least every
 * {@link #READ_AGAIN} whatever they say: a token rewritten within the file system's timestamp tick (4 ms on ext4, a
 * second on some NFS servers), or by a tool that keeps times ({@code cp -p}, {@code rsync -t}), was never read again, and
 * every publish went out with the old one, refused. A rotation caught half-way
 * (the file empty, or not readable for a moment) keeps the token read before and is read again next time: a
 * publish never fails on it. Only the first read, at build, refuses.
 */
final class TokenFile implements Supplier<String> {
    private final Path file;
    /** How long a token read is used at most before the file is read again, changed or not. */
    static volatile java.time.Duration READ_AGAIN = java.time.Duration.ofSeconds(10);

    private record Stamp(long modified, long size, Object identity) {
    }

    private volatile Stamp stamp;
    private volatile long readAt;
    private volatile String token;

    TokenFile(Path file) {
        this.file = Objects.requireNonNull(file, "file");
    }

    @Override
    public String get() {
        try {
            var attributes = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
            var now = new Stamp(attributes.lastModifiedTime().toMillis(), attributes.size(), attributes.fileKey());
            long nanos = System.nanoTime();
            if (!now.equals(stamp) || token == null || nanos - readAt >= READ_AGAIN.toNanos()) {
                String read = BearerTokens.clean(Files.readString(file, StandardCharsets.UTF_8), "in file " + file);
                token = read;
                stamp = now;
                readAt = nanos;
            }
            return token;
        } catch (IOException | IllegalArgumentException e) { // not UTF-8, empty, or a token no header can carry
            if (token != null) {
                return token;
            }
            if (e instanceof IllegalArgumentException refused) {
                throw refused;
            }
            throw new IllegalArgumentException("bearer token file " + file + " cannot be read: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
