package dev.ferry.app.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A configuration file's text, or the one error that keeps it from being read, said so an
 * operator can act on it: which file, which line and column holds a byte that is not UTF-8,
 * and what to do about a file saved as UTF-16.
 */
public final class ConfigFileText {

    /** Read whole into memory: far more than any configuration, far less than a mistaken log file. */
    static final long MOST_BYTES = 16L * 1024 * 1024;

    private ConfigFileText() {
    }

    /** The text of {@code path}; or the error naming why it has none. */
    public sealed interface Read {
        record Text(String text) implements Read {
        }

        record Refused(ConfigError error) implements Read {
        }
    }

    public static Read of(Path path) {
        var file = path.toString();
        byte[] bytes;
        try {
            if (Files.isDirectory(path)) {
                return refused(file, 0, "is a directory, not a configuration file");
            }
            long size = Files.size(path);
            if (size > MOST_BYTES) {
                return refused(file, 0, "is " + size + " bytes; a configuration file is at most " + MOST_BYTES
                        + " (is this the right file?)");
            }
            try (var in = Files.newInputStream(path)) {
                // at most one byte past the cap, whatever the size said: a pipe or a device (/dev/zero) has none
                bytes = in.readNBytes((int) MOST_BYTES + 1);
            }
            if (bytes.length > MOST_BYTES) {
                return refused(file, 0, "is more than " + MOST_BYTES + " bytes; a configuration file is at most that "
                        + "(is this the right file?)");
            }
        } catch (NoSuchFileException e) {
            return refused(file, 0, "no such file");
        } catch (AccessDeniedException e) {
            return refused(file, 0, "not allowed to read it (permission denied)");
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            return refused(file, 0, "cannot read: " + dev.ferry.domain.model.Thrown.describe(e));
        }
        if (bytes.length >= 2 && ((bytes[0] == (byte) 0xFF && bytes[1] == (byte) 0xFE)
                || (bytes[0] == (byte) 0xFE && bytes[1] == (byte) 0xFF))) {
            return refused(file, 1, "is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8");
        }
        try {
            return new Read.Text(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return notUtf8(file, bytes);
        }
    }

    private static Read notUtf8(String file, byte[] bytes) {
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        var in = ByteBuffer.wrap(bytes);
        var out = java.nio.CharBuffer.allocate(bytes.length + 1);
        var result = decoder.decode(in, out, true);
        int bad = in.position(); // the decoder stops in front of the first byte it cannot decode
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < bad; i++) {
            if (bytes[i] == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        // the column counts characters, as an editor does, not bytes
        int column = 1 + new String(bytes, lineStart, bad - lineStart, StandardCharsets.UTF_8).length();
        String what = result.isError() ? String.format("byte 0x%02X", bytes[bad] & 0xFF) : "an incomplete character";
        return refused(file, line, "is not UTF-8: " + what + " at column " + column
                + " (save the file as UTF-8)");
    }

    private static Read refused(String file, int line, String problem) {
        return new Read.Refused(new ConfigError(file, line, "(file)", problem));
    }
}
