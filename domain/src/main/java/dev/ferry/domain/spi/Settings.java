package dev.ferry.domain.spi;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One section of the configuration file, as an adapter reads it: typed reads that record a problem
 * (with the file, line and field path) instead of throwing, and return the fallback so the reader
 * can go on and report every problem at once. Every key the adapter asks for is a key it knows:
 * whatever else the section holds is reported as an unknown key after {@code configure} returns.
 */
public interface Settings {

    /** The name the section has in the file (the source's or sink's name). */
    String name();

    /** The value, or {@code fallback} when the key is absent; {@code ${ENV}} already substituted. */
    String string(String key, String fallback);

    /** The value; a problem when it is absent or empty (then null). */
    String required(String key);

    /** One of {@code allowed}; {@code fallback} null means required. */
    String oneOf(String key, String fallback, Set<String> allowed);

    int integer(String key, int fallback, int min, int max);

    boolean flag(String key, boolean fallback);

    /** A duration such as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d}. */
    Duration duration(String key, Duration fallback);

    /**
     * A {@code HOST:PORT} address such as {@code 127.0.0.1:8080} (port 0..65535), unresolved; the
     * fallback's when absent, and the fallback's with a problem recorded when malformed.
     */
    java.net.InetSocketAddress hostPort(String key, String fallback);

    /** A list of single values; empty when absent. */
    List<String> strings(String key);

    /** A mapping of single values (e.g. extra client properties); empty when absent. */
    Map<String, String> map(String key);

    /** Records a problem with a key, e.g. a rule between two keys; the run will not start. */
    void problem(String key, String message);
}
