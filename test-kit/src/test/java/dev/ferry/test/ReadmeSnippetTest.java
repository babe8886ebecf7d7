package dev.ferry.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README shows {@link ShippingTest} as it is: a user who copies it gets a test that passes. */
class ReadmeSnippetTest {

    @Test
    void theReadmesExample_isShippingTestAsWritten() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int section = readme.indexOf("## Testing your own handlers");
        assertThat(section).as("the README's section on testing handlers").isNotNegative();
        var block = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme.substring(section));
        assertThat(block.find()).as("a java block in that section").isTrue();

        String test = Files.readString(Path.of("src/test/java/dev/ferry/test/ShippingTest.java"));
        assertThat(test).contains(block.group(1));
    }
}
