package dev.ferry.app;

import dev.ferry.app.config.ConfigReader;
import dev.ferry.app.config.FerryConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * The {@code ferry} command line.
 *
 * <pre>
 * java -jar app/target/ferry.jar run --config FILE        run the configured listeners until stopped
 * java -jar app/target/ferry.jar validate --config FILE   check the file; list every error with file:line
 * java -jar app/target/ferry.jar --help
 * </pre>
 *
 * Exit codes: 0 done, 1 a failure while running, 2 a bad command line or configuration.
 */
public final class Ferry {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private static final String HELP = """
            ferry - carries events from queues to the code and systems that act on them

            usage:
              ferry run --config FILE        start the listeners of FILE; Ctrl-C stops them cleanly
              ferry validate --config FILE   check FILE and list every error (file:line: field: problem)
              ferry queues create --config FILE
                                             create FILE's source and sink queues, each with a DLQ
              ferry queues list-dlq-sources --config FILE --queue DLQ
                                             the queues whose redrive policy names DLQ
              ferry queues redrive --config FILE --from DLQ --to QUEUE [--max N]
                                             move messages back: copy, confirm, then delete
              ferry ledger create-table --config FILE
                                             create the DynamoDB ledger table of FILE (on-demand, TTL on)
              ferry send-test-event --config FILE --source NAME
                                             put a well-formed sample event (MTurk Ping, S3 TestEvent,
                                             ...) on a source's queue to try its routes
              ferry --help                   this text; 'ferry COMMAND --help' for one command

            exit codes: 0 done, 1 failed while running, 2 bad command line or configuration
            """;

    /** The embedded server's own chatter is not the user's business; Ferry's lines are. Held: JUL keeps weak references. */
    private static final java.util.List<java.util.logging.Logger> QUIET = java.util.List.of(
            java.util.logging.Logger.getLogger("org.elasticmq"), java.util.logging.Logger.getLogger("org.apache.pekko"));

    private Ferry() {
    }

    public static void main(String[] args) {
        QUIET.forEach(logger -> logger.setLevel(java.util.logging.Level.WARNING));
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            out.print(HELP);
            return args.length == 0 ? USAGE : OK;
        }
        String command = args[0];
        if (command.equals("queues") || command.equals("ledger") || command.equals("send-test-event")) {
            return Operations.run(args, out, err);
        }
        if (!command.equals("run") && !command.equals("validate")) {
            err.println("ferry: unknown command '" + command + "'");
            err.print(HELP);
            return USAGE;
        }
        if (args.length == 2 && (args[1].equals("--help") || args[1].equals("-h"))) {
            out.println(command.equals("run")
                    ? "ferry run --config FILE\n  Starts every source of FILE (and the embedded SQS server if it asks for one) and "
                      + "routes events to its sinks until Ctrl-C or SIGTERM; then finishes or releases what is in hand."
                    : "ferry validate --config FILE\n  Checks FILE without starting anything and lists every error "
                      + "as file:line: field: problem. Exit code 2 when there is any.");
            return OK;
        }
        if (args.length != 3 || !args[1].equals("--config")) {
            err.println("ferry " + command + ": expected --config FILE");
            return USAGE;
        }
        FerryComponent component;
        try {
            component = FerryComponent.create(Plugins.fromEnvironment());
            component.adapters();
        } catch (RuntimeException e) {
            err.println("ferry: cannot load the adapters: " + e.getMessage());
            return USAGE;
        }
        var config = readConfig(component, args[2], err);
        if (config == null) {
            return USAGE;
        }
        if (command.equals("validate")) {
            out.println("ferry: " + args[2] + " is valid: " + config.sources().size() + " source(s), "
                    + config.sinks().size() + " sink(s), " + config.routes().size() + " route(s)");
            return OK;
        }
        return runUntilStopped(component, config, err);
    }

    /** The file's configuration, or null after listing its errors on {@code err}. */
    static FerryConfig readConfig(FerryComponent component, String file, PrintStream err) {
        var result = ConfigReader.read(Path.of(file), System::getenv, component.adapters());
        if (result instanceof ConfigReader.Result.Invalid invalid) {
            err.println("ferry: " + invalid.errors().size() + " error(s) in " + file + ":");
            invalid.errors().forEach(e -> err.println("  " + e));
            return null;
        }
        return ((ConfigReader.Result.Ok) result).config();
    }

    private static int runUntilStopped(FerryComponent component, FerryConfig config, PrintStream err) {
        FerryRuntime runtime;
        try {
            runtime = component.run().create(config).runtime().start();
        } catch (RuntimeException e) {
            err.println("ferry: could not start: " + e.getMessage());
            return FAILED;
        }
        // SIGTERM and SIGINT ask for a clean stop: the listeners finish or release what they hold,
        // then the process exits 0. The hook covers every other way the JVM is asked to end.
        var stopRequested = new CountDownLatch(1);
        for (String signal : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(signal), s -> stopRequested.countDown());
            } catch (IllegalArgumentException unsupported) {
                // not on this platform: the shutdown hook below still stops cleanly
            }
        }
        var hook = new Thread(runtime::close, "ferry-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            stopRequested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.out.println("ferry: stopping (signal received)");
        runtime.close();
        return OK;
    }
}
