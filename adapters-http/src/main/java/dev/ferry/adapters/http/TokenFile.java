package dev.ferry.adapters.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;

/** A token file, re-read when its modification time changes (rotated credentials). */
final class TokenFile implements Supplier<String> {
    private final Path file;
    private volatile long modified = Long.MIN_VALUE;
    private volatile String token;

    TokenFile(Path file) {
        this.file = Objects.requireNonNull(file, "file");
    }

    @Override
    public String get() {
        try {
            long now = Files.getLastModifiedTime(file).toMillis();
            if (now != modified) {
                String read = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (read.isEmpty()) {
                    throw new IllegalArgumentException("bearer token file " + file + " is empty");
                }
                token = read;
                modified = now;
            }
            return token;
        } catch (IOException e) {
            if (token != null) {
                return token;
            }
            throw new IllegalArgumentException("bearer token file " + file + " cannot be read: " + e.getMessage(), e);
        }
    }
}
