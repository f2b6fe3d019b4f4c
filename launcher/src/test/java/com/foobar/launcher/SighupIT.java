package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kill -HUP} makes a running lb serve its certificate files anew, without a restart. */
class SighupIT {
  @TempDir Path dir;

  @Test
  void sighup_reloadsTheLbCertificate_withoutRestart() throws Exception {
    assertThat(JarProcess.run(dir, "certs", "init").exitCode()).isZero();
    for (String name : new String[] {"first", "second"}) {
      JarProcess issue =
          JarProcess.run(dir, "certs", "issue", "--name", name, "--san", "127.0.0.1");
      assertThat(issue.exitCode()).as(issue.stderr()).isZero();
    }
    Path cert = dir.resolve("certs/site.pem");
    Path key = dir.resolve("certs/site-key.pem");
    Files.copy(dir.resolve("certs/first.pem"), cert);
    Files.copy(dir.resolve("certs/first-key.pem"), key);
    int https = JarProcess.freePort();
    int admin = JarProcess.freePort();
    Path config =
        JarProcess.config(
            dir,
            """
            lb:
              https: 127.0.0.1:%d
              http: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              tls: {cert: %s, key: %s}
              backends: [http://127.0.0.1:%d]
            """
                .formatted(https, JarProcess.freePort(), admin, cert, key, JarProcess.freePort()));
    try (JarProcess jar = JarProcess.start(dir, "--role=lb", "--config=" + config)) {
      jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(30));
      assertThat(served(https)).isEqualTo(fingerprint(dir.resolve("certs/first.pem")));

      // the second certificate under the same names and modification times, so that only SIGHUP,
      // not the file watcher, can notice the change
      replaceKeepingTime(dir.resolve("certs/second.pem"), cert);
      replaceKeepingTime(dir.resolve("certs/second-key.pem"), key);
      String second = fingerprint(dir.resolve("certs/second.pem"));
      assertThat(served(https)).isNotEqualTo(second);

      Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(jar.pid())).start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(kill.exitValue()).isZero();

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!served(https).equals(second)) {
        assertThat(System.nanoTime() - deadline)
            .as("the second certificate served within 10 s of SIGHUP\n" + jar.stdout())
            .isNegative();
        TimeUnit.MILLISECONDS.sleep(50);
      }
      assertThat(jar.isAlive()).as("SIGHUP does not stop the lb").isTrue();
      assertThat(jar.stdout())
          .contains("\"event\":\"foobar.sighup\"")
          .contains("\"event\":\"tls.reloaded\"");
      assertThat(jar.terminate()).isZero();
    }
  }

  private static void replaceKeepingTime(Path from, Path to) throws Exception {
    FileTime time = Files.getLastModifiedTime(to);
    Path staged = to.resolveSibling(to.getFileName() + ".new");
    Files.copy(from, staged);
    Files.setLastModifiedTime(staged, time);
    Files.move(staged, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** SHA-256 of the leaf certificate the lb presents to a new connection. */
  private static String served(int port) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new AnyServer()}, null);
    try (SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.startHandshake();
      return sha256(s.getSession().getPeerCertificates()[0]);
    }
  }

  /** SHA-256 of the first certificate (the leaf) in a PEM file. */
  private static String fingerprint(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return sha256(CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
  }

  private static String sha256(Certificate cert) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
  }

  /** The test compares fingerprints itself; who issued the certificate does not matter. */
  private static final class AnyServer implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
