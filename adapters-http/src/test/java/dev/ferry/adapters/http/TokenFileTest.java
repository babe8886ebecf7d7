package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.domain.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rotated token file read again, whatever its modification time says. */
class TokenFileTest {

    @TempDir
    Path dir;

    private final Duration was = TokenFile.READ_AGAIN;

    @AfterEach
    void restore() {
        TokenFile.READ_AGAIN = was;
    }

    @Test // a review: a token rewritten within the file system's timestamp tick, or by a tool that keeps times, was never
          // read again — every publish went out with the old one, refused
    void aTokenRewrittenUnderTheSameTimeAndSize_isReadAgainAfterAWhile() throws Exception {
        TokenFile.READ_AGAIN = Duration.ofMillis(200);
        var file = dir.resolve("token");
        Files.writeString(file, "alpha-token-1");
        FileTime written = Files.getLastModifiedTime(file);
        var tokens = new TokenFile(file);
        assertThat(tokens.get()).isEqualTo("alpha-token-1");

        Files.writeString(file, "bravo-token-2"); // the same length, its time set back as `cp -p` would
        Files.setLastModifiedTime(file, written);

        assertThat(Await.until(Duration.ofSeconds(5), () -> tokens.get().equals("bravo-token-2")))
                .as("read again within its bound").isTrue();
    }
}
