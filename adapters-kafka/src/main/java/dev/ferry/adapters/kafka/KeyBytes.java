package dev.ferry.adapters.kafka;

import java.util.Arrays;

/** A record key with value equality; its hash is computed once. The key of a {@link PartitionBuffer}'s lane. */
final class KeyBytes {
    private final byte[] bytes;
    private final int hash;

    KeyBytes(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyBytes k && k.hash == hash && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
