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
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** An {@link HttpSource}'s server: plain HTTP, or HTTPS with the key and certificate of a PKCS12 keystore. */
final class IngestTls {

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
            var keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            var context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the PKCS12 keystore " + pkcs12 + ": " + e.getMessage(), e);
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
