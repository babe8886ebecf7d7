package dev.ferry.app;

import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code -c/--config FILE}, shared by every command that reads a configuration; without the option,
 * {@code $FERRY_CONFIG} names the file.
 */
final class ConfigFileOption {

    private final Ferry.Io io;

    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "The configuration file (default: the file $FERRY_CONFIG names).")
    private Path file;

    ConfigFileOption(Ferry.Io io) {
        this.io = io;
    }

    /** The file the user named, by option or environment; a usage error when neither names one. */
    Path path() {
        if (file != null) {
            return file;
        }
        String fromEnv = io.env().apply("FERRY_CONFIG");
        if (fromEnv == null || fromEnv.isBlank()) {
            throw new ParameterException(command.commandLine(),
                    "Missing the configuration file: give -c/--config FILE or set FERRY_CONFIG");
        }
        return Path.of(fromEnv);
    }

    /** The adapters this run knows: the built-in ones and the plugins beside the jar. */
    FerryComponent component() {
        try {
            var component = FerryComponent.create(Plugins.fromEnvironment());
            component.adapters();
            return component;
        } catch (RuntimeException | java.util.ServiceConfigurationError e) { // a broken plugin jar: a usage error, exit 2
            throw new ParameterException(command.commandLine(), "cannot load the adapters: " + e.getMessage(), e, null, null);
        }
    }

    /** The text {@link #read} read, as it read it; null before. */
    private String text;

    /** The text of the configuration {@link #read} read: a second read of a pipe (-c /dev/stdin) finds it empty. */
    String text() {
        return text;
    }

    /** The file's configuration, or null after listing its errors on the error stream. */
    FerryConfig read(FerryComponent component) {
        Path path = path();
        var read = dev.ferry.app.config.ConfigFileText.of(path);
        var result = switch (read) {
            case dev.ferry.app.config.ConfigFileText.Read.Refused refused ->
                    new ConfigReader.Result.Invalid(java.util.List.of(refused.error()));
            case dev.ferry.app.config.ConfigFileText.Read.Text t -> {
                text = t.text();
                yield ConfigReader.parse(path.toString(), t.text(), io.env(), component.adapters());
            }
        };
        if (result instanceof ConfigReader.Result.Invalid invalid) {
            io.err().println("ferry: " + invalid.errors().size() + " error(s) in " + path + ":");
            invalid.errors().forEach(e -> io.err().println("  " + e));
            return null;
        }
        return ((ConfigReader.Result.Ok) result).config();
    }
}
