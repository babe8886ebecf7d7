package dev.ferry.adapters.http;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The key of an HTTP source's keystore, read again when the file's bytes change. A certificate renewed in place
 * (cert-manager's secret, a cron's {@code openssl pkcs12}) was served only after a restart: a Ferry that ran past
 * the old certificate's end failed every client's handshake. The file is looked at, at most every
 * {@link #LOOK_EVERY} and on a thread of its own, when a client's handshake asks for the key; a file that changed but
 * cannot be used (half written, a wrong password, no key, out of its dates) is warned of, tried again each minute
 * (a certificate valid from a moment ahead becomes usable), and the key read before is served on.
 *
 * <p>An alias handed to the TLS engine carries the generation of the keystore it came from, so a handshake that
 * chose its alias just before a renewal finds that alias's chain and key, not the new file's.
 */
final class IngestKeys extends X509ExtendedKeyManager {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HttpSource.class);

    /** The least time between two looks at the file. */
    static volatile Duration LOOK_EVERY = Duration.ofSeconds(10);

    /** The certificate's end is warned of, while it is this near, at most once a day. */
    private static final Duration WARN_EVERY = Duration.ofDays(1);

    /** One reading of the file: its bytes, its key manager and its certificate's end. */
    record Read(int generation, byte[] bytes, X509ExtendedKeyManager keys, Instant until) {
    }

    private final Path file;
    private final char[] password;
    private volatile Read current;
    private volatile Read previous;
    private final AtomicLong nextLook;
    private volatile long warnedAt = Long.MIN_VALUE;
    private volatile byte[] refused;

    IngestKeys(Path file, char[] password, Read first) {
        this.file = file;
        this.password = password.clone();
        this.current = first;
        this.nextLook = new AtomicLong(System.nanoTime() + LOOK_EVERY.toNanos());
        endingSoon(System.nanoTime());
    }

    /** Bytes refused are read again after this: a certificate valid from a moment ahead (a signer's clock) becomes usable. */
    static volatile Duration REFUSED_TRIED_AGAIN = Duration.ofMinutes(1);
    private volatile long refusedAt;
    /** A look under way, on a thread of its own: a file system that hangs holds no handshake, and one look at a time. */
    private final java.util.concurrent.atomic.AtomicBoolean looking = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Starts a look at the file, on a thread of its own, when {@link #LOOK_EVERY} has passed since the last; the handshake
     * that asked goes on with the key it has (a renewal serves the next ones).
     */
    void lookAgain() {
        long now = System.nanoTime();
        long next = nextLook.get();
        if (now - next < 0 || !nextLook.compareAndSet(next, now + LOOK_EVERY.toNanos()) || !looking.compareAndSet(false, true)) {
            return;
        }
        try {
            Thread.ofVirtual().name("ferry-keystore-look").start(() -> {
                try {
                    look(now);
                } finally {
                    looking.set(false);
                }
            });
        } catch (RuntimeException | Error e) { // no thread to be had: looked at on a later handshake
            looking.set(false);
        }
    }

    /** Reads the file, and serves its key from now on when it changed and can be used. */
    void look(long now) {
        var was = current;
        try {
            byte[] bytes = Files.readAllBytes(file);
            boolean refusedBefore = Arrays.equals(bytes, refused);
            if (!Arrays.equals(bytes, was.bytes())
                    && (!refusedBefore || now - refusedAt >= dev.ferry.domain.model.Durations.nanos(REFUSED_TRIED_AGAIN))) {
                try {
                    var read = IngestTls.read(file, bytes, password, was.generation() + 1);
                    previous = was;
                    current = read;
                    refused = null;
                    LOG.info("keystore {} read again: its certificate is served to new connections, valid until {}", file,
                            read.until());
                } catch (IllegalArgumentException e) {
                    refused = bytes;
                    refusedAt = now;
                    if (!refusedBefore) {
                        LOG.warn("keystore {} changed but cannot be used, the certificate read before (valid until {}) is "
                                + "served on (the file is tried again each minute): {}", file, was.until(), e.getMessage());
                    }
                }
            }
            unreadable = null;
        } catch (java.io.IOException | RuntimeException | Error e) { // a file over 2 GB is an OutOfMemoryError: said too
            String why = String.valueOf(e);
            if (!why.equals(unreadable) || now - unreadableSaidAt >= WARN_EVERY.toNanos()) {
                // once for each cause, then as often as an ending certificate: a file removed was said every 10 s
                unreadable = why;
                unreadableSaidAt = now;
                unreadableSaid++;
                LOG.warn("keystore {} cannot be read again, the certificate read before (valid until {}) is served on: {}",
                        file, was.until(), why);
            }
        }
        endingSoon(now);
    }

    /** Why the file could not be read at the last look (null: it could), and when that was last said. */
    private volatile String unreadable;
    private volatile long unreadableSaidAt;
    /** How often that was said (one look at a time writes it). */
    volatile int unreadableSaid;

    private void endingSoon(long now) {
        var until = current.until();
        if (Instant.now().plus(IngestTls.ENDING_SOON).isBefore(until) || now - warnedAt < WARN_EVERY.toNanos()
                && warnedAt != Long.MIN_VALUE) {
            return;
        }
        warnedAt = now;
        LOG.warn("the certificate of keystore {} {} at {}: renew the file (it is read again when it changes)", file,
                Instant.now().isAfter(until) ? "ended" : "ends", until);
    }

    /** The reading an alias came from, or null: this one or the one before it. */
    private Read of(String alias) {
        int colon = alias == null ? -1 : alias.indexOf(':');
        if (colon < 1) {
            return null;
        }
        String generation = alias.substring(0, colon);
        for (var read : new Read[] {current, previous}) {
            if (read != null && generation.equals(Integer.toString(read.generation()))) {
                return read;
            }
        }
        return null;
    }

    private static String inner(String alias) {
        return alias.substring(alias.indexOf(':') + 1);
    }

    private static String tagged(Read read, String alias) {
        return alias == null ? null : read.generation() + ":" + alias;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        lookAgain();
        var read = current;
        return tagged(read, read.keys().chooseEngineServerAlias(keyType, issuers, engine));
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        lookAgain();
        var read = current;
        return tagged(read, read.keys().chooseServerAlias(keyType, issuers, socket));
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        var read = current;
        var aliases = read.keys().getServerAliases(keyType, issuers);
        return aliases == null ? null : Arrays.stream(aliases).map(a -> tagged(read, a)).toArray(String[]::new);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        var read = of(alias);
        return read == null ? null : read.keys().getCertificateChain(inner(alias));
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        var read = of(alias);
        return read == null ? null : read.keys().getPrivateKey(inner(alias));
    }

    /** A server's keys only: it never presents a client certificate. */
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }
}
