package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.app.config.ConfigError;
import dev.ferry.app.config.ConfigReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file that cannot be read as a configuration is refused with where and why, not a decoder's "Input length = 1". */
class ConfigFileErrorsTest {

    @TempDir
    Path dir;

    private String error(Path file) {
        var result = ConfigReader.read(file, Map.<String, String>of()::get, ConfigReaderTest.ADAPTERS);
        assertThat(result).isInstanceOf(ConfigReader.Result.Invalid.class);
        var errors = ((ConfigReader.Result.Invalid) result).errors();
        assertThat(errors).hasSize(1);
        return errors.getFirst().toString();
    }

    @Test
    void aByteThatIsNotUtf8IsNamedWithItsLineAndColumn() throws Exception {
        var file = dir.resolve("ferry.yaml");
        byte[] latin1 = "sinks:\r\n  log: {type: log}\n# caf\u00e9 \u00e9t\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(file, latin1);

        assertThat(error(file)).isEqualTo(file + ":3: (file): is not UTF-8: byte 0xE9 at column 6 (save the file as UTF-8)");
    }

    @Test
    void theColumnCountsCharactersNotBytes() throws Exception {
        var file = dir.resolve("ferry.yaml");
        var out = new java.io.ByteArrayOutputStream();
        out.write("# \u00e9\u00e9 ".getBytes(StandardCharsets.UTF_8)); // 2 + two 2-byte characters + 1: column 6 next
        out.write(0xFF);
        Files.write(file, out.toByteArray());

        assertThat(error(file)).isEqualTo(file + ":1: (file): is not UTF-8: byte 0xFF at column 6 (save the file as UTF-8)");
    }

    @Test
    void aFileSavedAsUtf16IsToldToBeSavedAsUtf8() throws Exception {
        var file = dir.resolve("ferry.yaml");
        Files.write(file, "\uFEFFsinks: {}\n".getBytes(StandardCharsets.UTF_16LE));

        assertThat(error(file)).isEqualTo(file + ":1: (file): is UTF-16 (it starts with a UTF-16 byte-order mark); "
                + "save it as UTF-8");
    }

    @Test
    void aMissingFileADirectoryAndAHugeFileEachSayWhich() throws Exception {
        assertThat(error(dir.resolve("nope.yaml"))).isEqualTo(dir.resolve("nope.yaml") + ":0: (file): no such file");
        assertThat(error(dir)).isEqualTo(dir + ":0: (file): is a directory, not a configuration file");

        var huge = dir.resolve("huge.yaml");
        try (var channel = java.nio.channels.FileChannel.open(huge, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.SPARSE)) {
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {'#'}), 17L * 1024 * 1024);
        }
        assertThat(error(huge)).startsWith(huge + ":0: (file): is 17825793 bytes; a configuration file is at most 16777216");
    }

    @Test
    void aUtf8FileWithAByteOrderMarkStillReads() throws Exception {
        var file = dir.resolve("ferry.yaml");
        Files.write(file, ("\uFEFFsources: {s: {sqs: {queue: q}}}\nsinks:\n  log: {type: log}\nroutes:\n  - to: [log]\n")
                .getBytes(StandardCharsets.UTF_8));

        var result = ConfigReader.read(file, Map.<String, String>of()::get, ConfigReaderTest.ADAPTERS);

        assertThat(result).as("%s", result instanceof ConfigReader.Result.Invalid invalid
                ? invalid.errors().stream().map(ConfigError::toString).toList() : result)
                .isInstanceOf(ConfigReader.Result.Ok.class);
    }
}
