package dev.ferry.adapters.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A token file, re-read when its modification time changes (rotated credentials). A rotation caught half-way
 * (the file empty, or not readable for a moment) keeps the token read before and is read again next time: a
 * publish never fails on it. Only the first read, at build, refuses.
 */
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
                String read = BearerTokens.clean(Files.readString(file, StandardCharsets.UTF_8), "in file " + file);
                token = read;
                modified = now;
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
