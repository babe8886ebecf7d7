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

/** An {@link HttpSource}'s server: plain HTTP, or HTTPS with the key and certificate of a PKCS12 keystore. */
final class IngestTls {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HttpSource.class);

    /** Connections waiting to be accepted. */
    private static final int BACKLOG = 512;

    private IngestTls() {
    }

    /** A TLS context serving the keystore's key; fails, naming the file, when it cannot be read or holds no key. */
    static SSLContext context(Path pkcs12, char[] password) {
        try (var in = Files.newInputStream(pkcs12)) {
            var store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
            boolean hasKey = false;
            for (var aliases = store.aliases(); aliases.hasMoreElements(); ) {
                hasKey |= store.isKeyEntry(aliases.nextElement());
            }
            if (!hasKey) {
                throw new IllegalArgumentException("keystore " + pkcs12 + " holds no private key");
            }
            checkDates(store, pkcs12);
            var keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            var context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the PKCS12 keystore " + pkcs12 + ": " + e.getMessage(), e);
        }
    }

    /** Said ahead of time: a certificate within this of its end is warned of at start. */
    private static final java.time.Duration ENDING_SOON = java.time.Duration.ofDays(14);

    /**
     * Refuses a certificate out of its dates, and warns of one ending soon. The keystore is read once, at start: one that
     * had expired started and stood ready while every client's handshake failed, nothing said.
     */
    private static void checkDates(KeyStore store, Path pkcs12) throws KeyStoreException {
        var now = java.time.Instant.now();
        for (var aliases = store.aliases(); aliases.hasMoreElements(); ) {
            String alias = aliases.nextElement();
            if (!store.isKeyEntry(alias) || !(store.getCertificate(alias) instanceof X509Certificate cert)) {
                continue;
            }
            var from = cert.getNotBefore().toInstant();
            var until = cert.getNotAfter().toInstant();
            if (now.isAfter(until) || now.isBefore(from)) {
                throw new IllegalArgumentException("the certificate '" + alias + "' of keystore " + pkcs12 + " is valid from "
                        + from + " until " + until + ", not now: every client's handshake would fail; renew it (the "
                        + "keystore is read at start: start again after renewing)");
            }
            if (now.plus(ENDING_SOON).isAfter(until)) {
                LOG.warn("the certificate '{}' of keystore {} ends at {}: renew it, and start again (the keystore is read at "
                        + "start)", alias, pkcs12, until);
            }
        }
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
