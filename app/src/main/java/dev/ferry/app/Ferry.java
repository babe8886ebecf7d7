package dev.ferry.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code ferry} command line: {@code run}, {@code validate}, {@code config}, {@code queues},
 * {@code groups}, {@code events}, {@code ledger}, {@code send-test-event} and {@code generate-completion}; {@code ferry COMMAND --help}
 * for each.
 *
 * <p>Parsing is strict: an option or argument a command does not know is an error (exit 2, with the
 * closest option as a suggestion), never ignored. Exit codes: 0 done, 1 a failure while running,
 * 2 a bad command line or configuration.
 */
@Command(name = "ferry", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
        synopsisSubcommandLabel = "COMMAND",
        description = "Carries events from queues to the code and systems that act on them.",
        footer = {"", "The configuration file is -c/--config FILE, or $FERRY_CONFIG when the option is not given.",
                "Exit codes: 0 done, 1 failed while running, 2 bad command line or configuration."})
public final class Ferry implements Callable<Integer> {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    /**
     * The commands, in the order the usage lists them. Added by {@link #commandLine(Io, String[])},
     * not by the annotation: picocli reads a command's whole tree by reflection before it parses, a
     * quarter of a second here, so a command line that names its command builds only that one.
     */
    private static final Map<String, Class<?>> COMMANDS = commands(RunCommands.Run.class, RunCommands.Validate.class,
            RunCommands.ConfigGroup.class, QueueCommands.Queues.class, GroupCommands.Groups.class,
            EventCommands.Events.class, QueueCommands.Ledger.class, QueueCommands.SendTestEvent.class,
            AutoComplete.GenerateCompletion.class);

    @Spec
    private CommandSpec spec;

    /** What every command writes to and reads its environment from. */
    record Io(PrintWriter out, PrintWriter err, Function<String, String> env) {
    }

    public static void main(String[] args) {
        int code = FAILED;
        try {
            code = run(args, System.out, System.err);
        } catch (Throwable e) { // an Error picocli does not catch: still an exit, never a half-started JVM left running
            System.err.println("ferry: " + e);
        } finally {
            if (args.length > 0 && "run".equals(args[0])) {
                // its last lines are said aside, a moment each: to a log that stalls, still in their write here, the exit
                // cut off the one that said why the run ended (could not start, a part did not close). A while, bounded
                StopSignals.lastLines(StopSignals.LAST_LINES);
            }
            System.exit(code);
        }
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, System::getenv);
    }

    static int run(String[] args, OutputStream out, OutputStream err, Function<String, String> env) {
        var io = new Io(writer(out), writer(err), env);
        boolean product = args.length == 0 || !"run".equals(args[0]); // `run`'s output is its log
        int code;
        try {
            code = commandLine(io, args).execute(args);
        } finally {
            if (product) {
                io.out().flush();
                io.err().flush();
            } else {
                // a moment at most: a log line stuck in its write to a pipe that stopped draining (a log driver that
                // blocks) holds the stream's lock, and this flush waited on it for good — the stop done, the exit never
                StopSignals.aMoment(() -> {
                    io.out().flush();
                    io.err().flush();
                });
            }
        }
        // a PrintWriter (and a PrintStream) swallows what failed writing: `ferry config schema > file` on a full disk left
        // the file cut short and exited 0. Not for `run`, whose output is its log: a log line lost on the way (a pipe's
        // reader restarted) made a clean stop exit 1, read as a part that did not close
        if (code == OK && product && (io.out().checkError() || out instanceof PrintStream printing && printing.checkError())) {
            io.err().println("ferry: the output could not be written whole (a full disk, a closed pipe)");
            io.err().flush();
            return FAILED;
        }
        return code;
    }

    /** The whole command tree, its commands built with {@code io}. */
    static CommandLine commandLine(Io io) {
        return commandLine(io, new String[0]);
    }

    /**
     * The command tree {@code args} needs: only the command they start with when they start with one
     * (its options, subcommands and help are all there), else all of them — for the usage, for
     * suggestions of a mistyped command, for {@code generate-completion}, which describes them all.
     */
    static CommandLine commandLine(Io io, String[] args) {
        var factory = new Factory(io);
        var cli = new CommandLine(new Ferry(), factory);
        var only = args.length > 0 && !"generate-completion".equals(args[0]) ? COMMANDS.get(args[0]) : null;
        for (var command : only != null ? List.<Class<?>>of(only) : COMMANDS.values()) {
            cli.addSubcommand(new CommandLine(command, factory));
        }
        // an argument is what it says: read as a file's name, @acme released the group the file acme named (event keys and
        // group ids may begin with @); set after the subcommands, as picocli applies it to those there are
        cli.setExpandAtFiles(false);
        cli.setOut(io.out());
        cli.setErr(io.err());
        cli.setParameterExceptionHandler((e, rest) -> {
            var command = e.getCommandLine();
            io.err().println("ferry: " + e.getMessage());
            if (e instanceof CommandLine.UnmatchedArgumentException unmatched) {
                Suggestions.closest(unmatched).ifPresent(s -> io.err().println("Did you mean " + s + "?"));
            }
            io.err().println("See '" + command.getCommandSpec().qualifiedName() + " --help'.");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            // a failure may quote what the messages or a downstream brought (a key, an error body, an answer)
            io.err().println("ferry: " + Printable.of(Thrown.message(e)));
            return FAILED;
        });
        return cli;
    }

    private static Map<String, Class<?>> commands(Class<?>... types) {
        var byName = new LinkedHashMap<String, Class<?>>();
        for (var type : types) {
            byName.put(type.getAnnotation(Command.class).name(), type);
        }
        return byName;
    }

    /** {@code ferry} alone: the usage, on the error stream, and exit 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return USAGE;
    }

    private static PrintWriter writer(OutputStream stream) {
        return new PrintWriter(new java.io.OutputStreamWriter(stream, StandardCharsets.UTF_8), true);
    }

    /** Builds commands and mixins that take the {@link Io}; everything else as picocli would. */
    private record Factory(Io io) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            try {
                var constructor = type.getDeclaredConstructor(Io.class);
                constructor.setAccessible(true);
                return constructor.newInstance(io);
            } catch (NoSuchMethodException plain) {
                return CommandLine.defaultFactory().create(type);
            }
        }
    }

    /** The version the jar was built as. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"ferry " + version(), "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }

        static String version() {
            try (InputStream in = Ferry.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    var p = new Properties();
                    p.load(in);
                    String v = p.getProperty("version", "");
                    if (!v.isBlank() && !v.contains("${")) {
                        return v;
                    }
                }
            } catch (IOException e) {
                // fall through: an unknown version is no reason to fail
            }
            return "(development build)";
        }
    }
}
