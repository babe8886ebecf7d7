package dev.ferry.adapters.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.domain.handle.Outcome;
import dev.ferry.domain.listener.Listener;
import dev.ferry.domain.listener.ListenerConfig;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** #16 (10): the ingest endpoint over TLS, with a PKCS12 keystore made by the JDK's own keytool. */
class HttpSourceTlsIT {

    private static final char[] PASSWORD = "changeit-for-this-test".toCharArray();

    private static Path keystore(Path dir) throws Exception {
        return keystore(dir, "ingest.p12", "-validity", "30");
    }

    /** A keystore made by keytool, with its dates as {@code dates} say. */
    private static Path keystore(Path dir, String name, String... dates) throws Exception {
        var file = dir.resolve(name);
        var keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        var command = new java.util.ArrayList<>(List.of(keytool, "-genkeypair", "-alias", "ingest", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1",
                "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", new String(PASSWORD)));
        command.addAll(List.of(dates));
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(new String(process.getInputStream().readAllBytes())).isZero();
        return file;
    }

    private static SSLContext trusting(Path file) throws Exception {
        var store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(file)) {
            store.load(in, PASSWORD);
        }
        var trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        var context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    @Test // #16
    void withAKeystore_theEndpointSpeaksHttps_andHandlesEvents_plainHttpGetsNoAnswer(@TempDir Path dir) throws Exception {
        var file = keystore(dir);
        var handled = new CopyOnWriteArrayList<String>();
        try (var source = HttpSource.builder().auth(IngestAuth.none()).tls(file, PASSWORD).build().start();
             var listener = Listener.builder(source, source, HttpSourceIT.DECODER, (event, delivery) -> {
                         handled.add(event.key());
                         return Outcome.done();
                     }).config(ListenerConfig.builder().pollWait(Duration.ofMillis(200)).shutdownDeadline(Duration.ofMillis(200))
                             .build()).build().start();
             var client = HttpClient.newBuilder().sslContext(trusting(file)).connectTimeout(Duration.ofSeconds(5)).build();
             var plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            assertThat(source.uri().getScheme()).isEqualTo("https");
            var answer = client.send(HttpRequest.newBuilder(source.uri()).timeout(Duration.ofSeconds(10))
                    .header("Idempotency-Key", "tls-1").POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"tls-1\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(handled).containsExactly("tls-1");

            var http = java.net.URI.create(source.uri().toString().replace("https://", "http://"));
            assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(http).timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"plain\"}")).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(IOException.class);
            assertThat(handled).doesNotContain("plain");
        }
    }

    @Test // a review: a certificate out of its dates started and stood ready while every client's handshake failed
    void aKeystoreWhoseCertificateExpired_isRefusedAtStart_sayingWhen(@TempDir Path dir) throws Exception {
        var expired = keystore(dir, "expired.p12", "-startdate", "-3d", "-validity", "1");
        assertThatThrownBy(() -> HttpSource.builder().tls(expired, PASSWORD))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(expired.toString())
                .hasMessageContaining("not now").hasMessageContaining("renew");
        var later = keystore(dir, "later.p12", "-startdate", "+2d", "-validity", "30");
        assertThatThrownBy(() -> HttpSource.builder().tls(later, PASSWORD)).hasMessageContaining("not now");
    }

    @Test // a review: the keystore was read at start only; a certificate renewed in place was served after a restart
    void aKeystoreRenewedInPlace_isServedToNewConnections_aBrokenRewriteKeepsTheKeyBefore(@TempDir Path dir) throws Exception {
        var file = keystore(dir);
        var renewed = keystore(dir, "renewed.p12", "-validity", "60");
        var was = IngestKeys.LOOK_EVERY;
        IngestKeys.LOOK_EVERY = Duration.ofMillis(50);
        var old = certificate(file);
        var renewal = certificate(renewed);
        try (var source = HttpSource.builder().auth(IngestAuth.none()).tls(file, PASSWORD).build().start()) {
            assertThat(served(source, old, renewal)).isEqualTo(old);

            Files.copy(renewed, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertThat(servedWithin(source, renewal, old, renewal)).as("the renewed certificate").isTrue();

            Files.write(file, new byte[] {1, 2, 3}); // half written: refused, the key read before served on
            Thread.sleep(200);
            assertThat(served(source, old, renewal)).isEqualTo(renewal);
            assertThat(served(source, old, renewal)).isEqualTo(renewal);
        } finally {
            IngestKeys.LOOK_EVERY = was;
        }
    }

    @Test // a review of the fix: a renewal valid from a moment ahead (the signer's clock, a file staged early) was refused
          // at its first look and never read again: the old certificate served to its end, then every handshake failed
    void aRenewalValidFromAMomentAhead_isServedOnceItsTimeComes(@TempDir Path dir) throws Exception {
        var file = keystore(dir);
        var ahead = keystore(dir, "ahead.p12", "-startdate", "+3S", "-validity", "60");
        var was = IngestKeys.LOOK_EVERY;
        var retried = IngestKeys.REFUSED_TRIED_AGAIN;
        IngestKeys.LOOK_EVERY = Duration.ofMillis(50);
        IngestKeys.REFUSED_TRIED_AGAIN = Duration.ofMillis(200);
        var old = certificate(file);
        var renewal = certificate(ahead);
        try (var source = HttpSource.builder().auth(IngestAuth.none()).tls(file, PASSWORD).build().start()) {
            Files.copy(ahead, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertThat(served(source, old, renewal)).as("not valid yet: the one before").isEqualTo(old);
            assertThat(servedWithin(source, renewal, old, renewal)).as("once valid").isTrue();
        } finally {
            IngestKeys.LOOK_EVERY = was;
            IngestKeys.REFUSED_TRIED_AGAIN = retried;
        }
    }

    /** The certificate the endpoint serves a new connection (a new client, no session to resume), trusting both files. */
    private static java.security.cert.Certificate served(HttpSource source, java.security.cert.Certificate... trusted)
            throws Exception {
        var trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        for (int i = 0; i < trusted.length; i++) {
            trust.setCertificateEntry("t" + i, trusted[i]);
        }
        var factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        var context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        try (var client = HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build()) {
            var answer = client.send(HttpRequest.newBuilder(source.uri()).timeout(Duration.ofSeconds(10))
                    .GET().build(), HttpResponse.BodyHandlers.discarding());
            return answer.sslSession().orElseThrow().getPeerCertificates()[0];
        }
    }

    private static boolean servedWithin(HttpSource source, java.security.cert.Certificate wanted,
                                        java.security.cert.Certificate... trusted) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() - until < 0) {
            if (served(source, trusted).equals(wanted)) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    private static java.security.cert.Certificate certificate(Path file) throws Exception {
        var store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(file)) {
            store.load(in, PASSWORD);
        }
        return store.getCertificate("ingest");
    }

    @Test // a review of the fix: a keystore removed (or unreadable) was warned of at every look, each 10 s while clients came
    void aKeystoreThatCannotBeReadAgain_isSaidOnceForEachCause_andServedOn(@TempDir Path dir) throws Exception {
        var file = keystore(dir);
        var keys = new IngestKeys(file, PASSWORD, IngestTls.read(file, Files.readAllBytes(file), PASSWORD, 0));
        Files.delete(file);
        for (int look = 0; look < 3; look++) {
            keys.look(System.nanoTime());
        }
        assertThat(keys.unreadableSaid).as("said once while the cause stays").isEqualTo(1);
        Files.createDirectory(file); // another cause: said again
        keys.look(System.nanoTime());
        keys.look(System.nanoTime());
        assertThat(keys.unreadableSaid).isEqualTo(2);
        assertThat(keys.getCertificateChain(keys.chooseServerAlias("EC", null, null))).as("the key read before, served on")
                .isNotEmpty();
    }

    @Test // #16
    void aKeystoreThatCannotBeRead_isAClearErrorNamingTheFile(@TempDir Path dir) throws Exception {
        var file = keystore(dir);
        assertThatThrownBy(() -> HttpSource.builder().tls(file, "wrong".toCharArray()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(file.toString());
        assertThatThrownBy(() -> HttpSource.builder().tls(dir.resolve("missing.p12"), PASSWORD))
                .hasMessageContaining("missing.p12");
        assertThat(List.of(file)).isNotEmpty();
    }
}
