package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Nothing in the repository points outside it: a user's clone has only the repository, so a link,
 * comment or test reading a design document beside it is a dead end (or a failing test) for them.
 */
class StandsAloneTest {

    /** Built from parts so that this file does not match itself. */
    private static final Pattern OUTSIDE = Pattern.compile(String.join("|",
            Pattern.quote("../" + "shared"), "reference/" + "0\\d\\d", "DESIGN" + "\\.md", "STYLE" + "\\.md", "BUILD-" + "NOTES"));

    @Test
    void noFile_refersToDocumentsOutsideTheRepository() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        assertThat(root.resolve("pom.xml")).exists();
        var found = new ArrayList<String>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(Files::isRegularFile).filter(StandsAloneTest::isSource).toList()) {
                List<String> lines;
                try {
                    lines = Files.readAllLines(file);
                } catch (MalformedInputException binary) {
                    continue;
                }
                for (int i = 0; i < lines.size(); i++) {
                    if (OUTSIDE.matcher(lines.get(i)).find()) {
                        found.add(root.relativize(file) + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        assertThat(found).as("references to documents outside the repository").isEmpty();
    }

    private static boolean isSource(Path file) {
        String path = file.toString().replace('\\', '/');
        if (path.contains("/target/") || path.contains("/.git/") || path.contains("/node_modules/")) {
            return false;
        }
        String name = file.getFileName().toString();
        return name.endsWith(".java") || name.endsWith(".md") || name.endsWith(".xml") || name.endsWith(".yaml")
                || name.endsWith(".yml") || name.endsWith(".properties") || name.endsWith(".sh") || name.equals("run")
                || name.endsWith(".py") || name.endsWith(".json") && !path.contains("/samples/");
    }
}
