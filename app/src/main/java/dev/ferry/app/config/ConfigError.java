package dev.ferry.app.config;

/** One problem in a config file: where it is (file:line and the field's path) and what is wrong. */
public record ConfigError(String file, int line, String path, String message) {

    @Override
    public String toString() {
        return file + ":" + line + ": " + path + ": " + message;
    }
}
