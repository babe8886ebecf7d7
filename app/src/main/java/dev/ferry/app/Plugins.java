package dev.ferry.app;

import dev.ferry.domain.spi.FerryPlugin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * Adapter jars beside the app: every {@code *.jar} in the plugin folder ({@code plugins/} beside
 * {@code ferry.jar}, or {@code FERRY_PLUGINS}) is put on one class loader, and each
 * {@link FerryPlugin} they list in {@code META-INF/services/dev.ferry.domain.spi.FerryPlugin} is
 * loaded; so is any on the app's own class path ({@code java -cp ferry.jar:my-adapter.jar ...}).
 *
 * @param folder the folder searched, or null for the class path only
 */
public record Plugins(Path folder) {

    /** One plugin and where it came from, for messages. */
    public record Loaded(FerryPlugin plugin, String origin) {
        @Override
        public String toString() {
            return plugin.getClass().getName() + " (" + origin + ")";
        }
    }

    public static Plugins none() {
        return new Plugins(null);
    }

    /** {@code FERRY_PLUGINS}, else {@code plugins/} beside the jar the app runs from. */
    public static Plugins fromEnvironment() {
        String env = System.getenv("FERRY_PLUGINS");
        if (env != null && !env.isBlank()) {
            return new Plugins(Path.of(env));
        }
        try {
            var location = Ferry.class.getProtectionDomain().getCodeSource().getLocation();
            var jar = Path.of(location.toURI());
            return Files.isRegularFile(jar) ? new Plugins(jar.resolveSibling("plugins")) : none();
        } catch (URISyntaxException | RuntimeException e) {
            return none();
        }
    }

    /**
     * Said beside a source, sink type or ledger kind the file names and no adapter has, when the plugin folder
     * is not a folder: that is never an error by itself (an image may name an optional one), but a mistyped
     * {@code FERRY_PLUGINS} loads nothing without a word, and the name the plugin would have given is unknown.
     */
    String missingFolder() {
        return folder == null || Files.isDirectory(folder) ? ""
                : " (no plugin was loaded from " + folder + ": not a folder; plugin jars are read from FERRY_PLUGINS, "
                + "else plugins/ beside ferry.jar)";
    }

    /**
     * Every plugin found; a jar that cannot be loaded (a class it names is missing, it was built for a
     * newer Java, its plugin's constructor throws) is refused with its place and why, not a stack trace.
     */
    List<Loaded> load() {
        return load(Plugins.class.getClassLoader());
    }

    /**
     * {@link #load()} with the app's class path given: a test puts a plugin jar on it that is also in the folder,
     * as {@code java -cp "ferry.jar:plugins/*"} does, without a second JVM.
     */
    List<Loaded> load(ClassLoader parent) {
        try {
            return loadAll(parent);
        } catch (java.util.ServiceConfigurationError | LinkageError e) {
            throw new IllegalStateException("a plugin could not be loaded (from the class path, or "
                    + (folder == null ? "no plugin folder" : folder) + "): " + e.getMessage()
                    + (e.getCause() != null ? " (" + Thrown.describe(e.getCause()) + ")" : ""), e);
        }
    }

    private List<Loaded> loadAll(ClassLoader parent) {
        var out = new ArrayList<Loaded>();
        for (var plugin : ServiceLoader.load(FerryPlugin.class, parent)) {
            out.add(new Loaded(plugin, "class path"));
        }
        if (folder == null || !Files.isDirectory(folder)) {
            return out;
        }
        List<Path> jars;
        try (Stream<Path> files = Files.list(folder)) {
            jars = files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the plugin folder " + folder, e);
        }
        if (jars.isEmpty()) {
            return out;
        }
        var jarOf = refuseTwoCopies(jars);
        var urls = jars.stream().map(Plugins::url).toArray(URL[]::new);
        @SuppressWarnings("resource") // lives as long as the app: the plugins' classes come from it
        var loader = new URLClassLoader("ferry-plugins", urls, parent);
        var providers = ServiceLoader.load(FerryPlugin.class, loader).stream().toList();
        for (var provider : providers) { // all checked before any is made: refused, no folder plugin's constructor ran
            refuseOutsideTheFolder(provider.type(), loader, jarOf);
        }
        for (var provider : providers) {
            if (provider.type().getClassLoader() == loader) {
                var source = provider.type().getProtectionDomain().getCodeSource();
                out.add(new Loaded(provider.get(), source == null ? folder.toString() : source.getLocation().getPath()));
            }
        }
        return out;
    }

    /**
     * Refuses a plugin class named by two jars: all jars share one class loader, which loads a class from the
     * first jar that has it, and the service loader skips a provider it has seen — so beside an upgrade's new
     * jar, the old one's classes were used in part, without a word. Returns the jar that names each plugin class.
     */
    private static java.util.Map<String, Path> refuseTwoCopies(List<Path> jars) {
        var where = new java.util.HashMap<String, Path>();
        for (var jar : jars) {
            for (var provider : new java.util.LinkedHashSet<>(providers(jar))) { // one jar may name a provider twice
                var earlier = where.putIfAbsent(provider, jar);
                if (earlier != null) {
                    throw new IllegalStateException("plugin " + provider + " is in two jars of the plugin folder, "
                            + earlier.getFileName() + " and " + jar.getFileName() + " (two versions side by side?); "
                            + "keep one");
                }
            }
        }
        return where;
    }

    /**
     * Refuses a plugin class a folder jar names that was loaded from outside the folder: the folder's loader asks
     * the app's class path first, so a copy there (an older build beside {@code ferry.jar} on {@code -cp}) ran and
     * the folder's — an upgrade dropped into {@code plugins/} — was skipped without a word. The folder's own jar on
     * the class path ({@code -cp ferry.jar:plugins/my.jar}, or {@code plugins/*}) is not refused: that is one copy,
     * which runs once, from the class path, as it always did — refusing it named one file twice and stopped a start.
     */
    private static void refuseOutsideTheFolder(Class<?> type, ClassLoader folderLoader, java.util.Map<String, Path> jarOf) {
        var jar = jarOf.get(type.getName());
        if (jar == null || type.getClassLoader() == folderLoader) {
            return; // named by the class path's own services file only, or the folder's copy is the one loaded
        }
        if (loadedFromTheFile(type, jar)) {
            return; // the folder's jar is itself on the class path: the same bytes, loaded once
        }
        var source = type.getProtectionDomain().getCodeSource();
        String loadedFrom = source == null || source.getLocation() == null ? "its class loader " + type.getClassLoader()
                : source.getLocation().getPath();
        throw new IllegalStateException("plugin " + type.getName() + " is named by " + jar + " in the plugin folder, but "
                + "its class is loaded from " + loadedFrom + " on the app's class path, which is asked first: the folder's "
                + "copy would never run; keep one (take it off the class path, or its jar out of the folder)");
    }

    /**
     * Whether {@code type} was loaded from {@code jar} itself, both resolved to real paths: the class path may name it
     * by a relative path, through a link or with {@code plugins/*}. A location that cannot be resolved (no code
     * source, not a file, gone) counts as another file, so a copy that cannot be placed is still refused.
     */
    private static boolean loadedFromTheFile(Class<?> type, Path jar) {
        var source = type.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            return false;
        }
        try {
            return Path.of(source.getLocation().toURI()).toRealPath().equals(jar.toRealPath());
        } catch (URISyntaxException | IOException | RuntimeException e) { // not a file: URI (a jrt: or nested jar)
            return false;
        }
    }

    /** The plugin classes a jar's {@code META-INF/services} entry names. */
    private static List<String> providers(Path jar) {
        try (var file = new java.util.jar.JarFile(jar.toFile())) {
            var entry = file.getJarEntry("META-INF/services/" + FerryPlugin.class.getName());
            if (entry == null) {
                return List.of();
            }
            try (var in = file.getInputStream(entry)) {
                return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
                        .map(line -> line.replaceFirst("#.*", "").strip()).filter(line -> !line.isEmpty()).toList();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the plugin jar " + jar, e);
        }
    }

    private static URL url(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("bad plugin path " + jar, e);
        }
    }
}
