package dev.ferry.app;

/**
 * A plugin's exception that cannot be printed: its message and its text throw (a message built lazily
 * from a closed client, a plugin's bug). Whatever reports it must not throw in turn.
 */
final class Unprintable extends RuntimeException {

    @Override
    public String getMessage() {
        throw new IllegalStateException("the message cannot be built");
    }

    @Override
    public String toString() {
        throw new IllegalStateException("nor the text");
    }
}
