package dev.ferry.app;

import dev.ferry.app.config.ConfigPrinter;
import dev.ferry.app.config.FerryConfig;
import dev.ferry.app.logging.FerryLogging;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/** {@code ferry run}, {@code ferry validate} and {@code ferry config ...}. */
final class RunCommands {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("ferry");

    private RunCommands() {
    }

    @Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Starts every source of the configuration (and the embedded SQS server if it asks for one) "
                    + "and routes events to its sinks until Ctrl-C or SIGTERM; then finishes or releases what is in hand."})
    static final class Run implements Callable<Integer> {
        @Mixin
        private ConfigFileOption config;

        @Override
        public Integer call() {
            var component = config.component();
            FerryConfig read = config.read(component);
            if (read == null) {
                return Ferry.USAGE;
            }
            FerryLogging.apply(read.logging(), true);
            return runUntilStopped(component, read);
        }

        private static int runUntilStopped(FerryComponent component, FerryConfig config) {
            var runtime = component.run().create(config).runtime();
            // SIGTERM and SIGINT ask for a clean stop: the listeners finish or release what they hold,
            // then the process exits 0. Both are caught before anything starts, so a signal that
            // arrives while the sources are starting is a clean stop too; the hook covers every
            // other way the JVM is asked to end.
            var stopRequested = new CountDownLatch(1);
            var starting = new AtomicBoolean(true);
            var signals = StopSignals.of(stopRequested, starting::get, LOG);
            for (String signal : new String[] {"TERM", "INT"}) {
                try {
                    Signal.handle(new Signal(signal), s -> signals.received(s.getNumber()));
                } catch (IllegalArgumentException unsupported) {
                    // not on this platform: the shutdown hook below still stops cleanly
                }
            }
            var told = new AtomicBoolean();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> onShutdown(runtime, stopRequested, told),
                    "ferry-shutdown"));
            return untilStopped(runtime, stopRequested, starting, told);
        }

        /**
         * The JVM asked to end otherwise than by TERM or INT (SIGHUP, a {@code System.exit} of a plugin's): a stop request
         * too — a start under way starts no listener (they took messages only for this close to give them back, a receive
         * of each spent). Its close not whole is said here, and the lines said aside waited for, a while: the run's main
         * thread, woken by the same request, is cut off by the JVM's end once the hooks are done — the run ended, and no
         * line said that what was in hand may be handled again.
         */
        static void onShutdown(FerryRuntime runtime, CountDownLatch stopRequested, AtomicBoolean told) {
            stopRequested.countDown();
            runtime.close();
            if (!runtime.closedWhole()) {
                notWhole(told);
            }
            StopSignals.lastLines(StopSignals.LAST_LINES);
        }

        /** Says, once for the run (the hook and the main thread may both find it), that its close was not whole. */
        private static void notWhole(AtomicBoolean told) {
            if (told.compareAndSet(false, true)) {
                StopSignals.aMoment(() -> LOG.error("stopped, but a part did not close within its bound or its close "
                        + "failed, or a listener's shutdown failed (see above): what it had in hand may be handled again "
                        + "after a restart"));
            }
        }

        /**
         * Starts {@code runtime} and closes it once a stop is asked for; {@code starting} is false once the start is
         * over. Each line here is said aside, a moment at most: with the log's pipe blocked (a log driver that stopped
         * reading), one said on this thread held it for good, and a stop that had ended exited only by the kill after
         * the grace period (137). One still in its write after its moment (a log that stalls) is waited for, a while at
         * most, before the exit ({@link StopSignals#lastLines}).
         */
        static int untilStopped(FerryRuntime runtime, CountDownLatch stopRequested, AtomicBoolean starting) {
            return untilStopped(runtime, stopRequested, starting, new AtomicBoolean());
        }

        /** {@link #untilStopped(FerryRuntime, CountDownLatch, AtomicBoolean)}; {@code told}: its close said not whole. */
        static int untilStopped(FerryRuntime runtime, CountDownLatch stopRequested, AtomicBoolean starting,
                                AtomicBoolean told) {
            try {
                runtime.start(() -> stopRequested.getCount() == 0);
            } catch (RuntimeException | Error e) {
                if (stopRequested.getCount() == 0) { // a stop asked for while the start waited (SQS not reachable yet):
                    StopSignals.aMoment(() -> LOG.warn("stopped while starting (what had started was stopped again): {}",
                            Thrown.describe(e))); // a clean stop, if what started closed whole (start closes it)
                    if (!runtime.closedWhole()) { // a listener started, or a sink, whose close failed: 0 promised it all
                        notWhole(told);
                        return Ferry.FAILED;
                    }
                    return Ferry.OK; // (systemd took the exit 1 for a failed unit, an alert named SQS, not the stop)
                }
                StopSignals.aMoment(() -> LOG.error("could not start: {}", e instanceof Error ? Thrown.describe(e)
                        : Thrown.message(e))); // text that may throw
                return Ferry.FAILED;
            } finally {
                starting.set(false);
            }
            try {
                stopRequested.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // said aside, a moment at most: with the log's pipe blocked, the line held this thread and the stop never began
            StopSignals.aMoment(() -> LOG.info("stopping (signal received)"));
            runtime.close();
            if (!runtime.closedWhole()) { // said: exit 0 promises what was in hand was finished or released
                notWhole(told);
                return Ferry.FAILED;
            }
            return Ferry.OK;
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Checks the configuration without starting anything and lists every error as "
                    + "file:line: field: problem. Exit code 2 when there is any."})
    static final class Validate implements Callable<Integer> {
        private final Ferry.Io io;

        @Mixin
        private ConfigFileOption config;

        Validate(Ferry.Io io) {
            this.io = io;
        }

        @Override
        public Integer call() {
            FerryConfig read = config.read(config.component());
            if (read == null) {
                return Ferry.USAGE;
            }
            io.out().println("ferry: " + config.path() + " is valid: " + read.sources().size() + " source(s), "
                    + read.sinks().size() + " sink(s), " + read.routes().size() + " route(s)");
            return Ferry.OK;
        }
    }

    @Command(name = "config", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            synopsisSubcommandLabel = "COMMAND", description = "Shows the configuration as Ferry reads it.",
            subcommands = {Print.class, Schema.class})
    static final class ConfigGroup implements Runnable {
        @Spec
        private CommandSpec spec;

        @Override
        public void run() {
            throw new ParameterException(spec.commandLine(), "Missing the command: config print or config schema");
        }
    }

    @Command(name = "schema", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Prints the JSON Schema of the configuration file (with the plugins' adapters, if any), for "
                    + "editors that check and complete YAML: e.g. '# yaml-language-server: $schema=ferry-config.schema.json'."})
    static final class Schema implements Callable<Integer> {
        private final Ferry.Io io;

        Schema(Ferry.Io io) {
            this.io = io;
        }

        @Override
        public Integer call() {
            Adapters adapters;
            try {
                // the plugins load when the adapters are first asked for, not at create: a broken jar's failure
                // outside this try reached picocli as a failure while running, exit 1, where every other command says 2
                adapters = FerryComponent.create(Plugins.fromEnvironment()).adapters();
            } catch (RuntimeException | java.util.ServiceConfigurationError e) {
                io.err().println("ferry: cannot load the adapters: " + e.getMessage());
                return Ferry.USAGE;
            }
            String schema;
            try {
                schema = dev.ferry.app.config.ConfigSchema.json(adapters);
            } catch (dev.ferry.app.config.ConfigSchema.UnreadableAdapter e) { // a plugin's settings reader threw an Error
                io.err().println("ferry: " + e.getMessage());
                return Ferry.USAGE;
            }
            io.out().println(schema);
            return Ferry.OK;
        }
    }

    @Command(name = "print", mixinStandardHelpOptions = true, versionProvider = Ferry.Version.class,
            description = {"Prints the configuration with every ${VAR} resolved from the environment and every secret "
                    + "(tokens, passwords, keys, an HTTP sink's header values but Content-Type, Accept and User-Agent, passwords in URLs) masked. "
                    + "The file is validated first; exit 2 when it has errors."})
    static final class Print implements Callable<Integer> {
        private final Ferry.Io io;

        @Mixin
        private ConfigFileOption config;

        Print(Ferry.Io io) {
            this.io = io;
        }

        @Override
        public Integer call() throws Exception {
            if (config.read(config.component()) == null) {
                return Ferry.USAGE;
            }
            io.out().print(ConfigPrinter.resolved(config.text(), io.env())); // the text checked, not the file read again
            return Ferry.OK;
        }
    }
}
