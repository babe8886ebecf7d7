package dev.ferry.adapters.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * An {@link HttpSource}'s server: plain HTTP, or HTTPS with the key and certificate of a PKCS12 keystore, read again
 * when the file changes.
 */
final class IngestTls {

    /** Connections waiting to be accepted. */
    private static final int BACKLOG = 512;

    private IngestTls() {
    }

    /**
     * A TLS context serving the keystore's key, read again when the file changes ({@link IngestKeys}); fails, naming
     * the file, when it cannot be read, holds no key, or its certificate is out of its dates.
     */
    static SSLContext context(Path pkcs12, char[] password) {
        try {
            var first = read(pkcs12, Files.readAllBytes(pkcs12), password, 0);
            var context = SSLContext.getInstance("TLS");
            context.init(new javax.net.ssl.KeyManager[] {new IngestKeys(pkcs12, password, first)}, null, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the PKCS12 keystore " + pkcs12 + ": " + e.getMessage(), e);
        }
    }

    /** One reading of the keystore's bytes; fails, naming the file, as {@link #context} does. */
    static IngestKeys.Read read(Path pkcs12, byte[] bytes, char[] password, int generation) {
        try {
            var store = KeyStore.getInstance("PKCS12");
            store.load(new java.io.ByteArrayInputStream(bytes), password);
            var until = checkDates(store, pkcs12);
            if (until == null) {
                throw new IllegalArgumentException("keystore " + pkcs12 + " holds no private key");
            }
            var keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            for (var manager : keys.getKeyManagers()) {
                if (manager instanceof javax.net.ssl.X509ExtendedKeyManager x509) {
                    return new IngestKeys.Read(generation, bytes, x509, until);
                }
            }
            throw new IllegalArgumentException("keystore " + pkcs12 + " gave no X.509 key manager");
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the PKCS12 keystore " + pkcs12 + ": " + e.getMessage(), e);
        }
    }

    /** Said ahead of time: a certificate within this of its end is warned of. */
    static final java.time.Duration ENDING_SOON = java.time.Duration.ofDays(14);

    /**
     * Refuses a certificate out of its dates (one that had expired started and stood ready while every client's
     * handshake failed, nothing said); the earliest end of the keystore's key certificates, or null when it holds no key.
     */
    private static java.time.Instant checkDates(KeyStore store, Path pkcs12) throws KeyStoreException {
        var now = java.time.Instant.now();
        java.time.Instant earliest = null;
        for (var aliases = store.aliases(); aliases.hasMoreElements(); ) {
            String alias = aliases.nextElement();
            if (!store.isKeyEntry(alias)) {
                continue;
            }
            if (!(store.getCertificate(alias) instanceof X509Certificate cert)) {
                earliest = earliest == null ? java.time.Instant.MAX : earliest;
                continue;
            }
            var from = cert.getNotBefore().toInstant();
            var until = cert.getNotAfter().toInstant();
            if (now.isAfter(until) || now.isBefore(from)) {
                throw new IllegalArgumentException("the certificate '" + alias + "' of keystore " + pkcs12 + " is valid from "
                        + from + " until " + until + ", not now: every client's handshake would fail; renew it");
            }
            earliest = earliest == null || until.isBefore(earliest) ? until : earliest;
        }
        return earliest;
    }

    /** The server on {@code address}: HTTPS when {@code tls} is given (an endpoint that listens beyond the host). */
    static HttpServer server(InetSocketAddress address, SSLContext tls) throws IOException {
        if (tls == null) {
            return HttpServer.create(address, BACKLOG);
        }
        var https = HttpsServer.create(address, BACKLOG);
        https.setHttpsConfigurator(new HttpsConfigurator(tls));
        return https;
    }
}
