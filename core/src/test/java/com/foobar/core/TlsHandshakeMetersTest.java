package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code foobar.tls.handshakes} and {@code foobar.tls.handshake.failures} on real listeners. */
class TlsHandshakeMetersTest {
  static {
    TlsTesting.init();
  }

  @TempDir Path dir;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private HttpServer server;

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.stop();
    }
  }

  private int start(ServerTls tls, boolean requireClientCertificate) {
    server =
        HttpServer.builder(TlsTesting.LIMITS, registry)
            .httpsListener(
                "site",
                new HostPort("127.0.0.1", 0),
                AccessRule.of(List.of(Cidr.parse("127.0.0.0/8")), List.of()),
                Optional.empty(),
                "static",
                ex -> ex.getResponseSender().send("ok"),
                tls,
                requireClientCertificate,
                false)
            .start();
    return server.address("site").port();
  }

  private double handshakes(String protocol) {
    var c =
        registry
            .find("foobar.tls.handshakes")
            .tags("listener", "site", "protocol", protocol, "result", "ok")
            .counter();
    return c == null ? 0 : c.count();
  }

  private double failures(String reason) {
    var c =
        registry
            .find("foobar.tls.handshake.failures")
            .tags("listener", "site", "reason", reason)
            .counter();
    return c == null ? 0 : c.count();
  }

  private static void awaitCount(java.util.function.DoubleSupplier count, double expected)
      throws InterruptedException {
    for (int i = 0; i < 500 && count.getAsDouble() != expected; i++) {
      TimeUnit.MILLISECONDS.sleep(10);
    }
    assertThat(count.getAsDouble()).isEqualTo(expected);
  }

  private static SSLContext anyServer() throws Exception {
    return TlsTesting.client(Optional.empty());
  }

  @Test
  void handshakes_countedByProtocol_tls11ClientAndUntrustingClientCountedAsFailures()
      throws Exception {
    ServerTls tls =
        ServerTls.builder("site").selfSigned("www.foobar.test", Clock.systemUTC()).build();
    int port = start(tls, false);

    for (int i = 0; i < 2; i++) {
      assertThat(TlsTesting.get(anyServer(), port, null, List.of("TLSv1.3"), List.of()).protocol())
          .isEqualTo("TLSv1.3");
    }
    assertThat(TlsTesting.get(anyServer(), port, null, List.of("TLSv1.2"), List.of()).protocol())
        .isEqualTo("TLSv1.2");
    assertThatThrownBy(() -> TlsTesting.get(anyServer(), port, null, List.of("TLSv1.1"), List.of()))
        .isInstanceOf(IOException.class);
    // the JDK's default trust store does not know a self-signed certificate: the client aborts
    assertThatThrownBy(
            () ->
                TlsTesting.get(SSLContext.getDefault(), port, null, List.of("TLSv1.3"), List.of()))
        .isInstanceOf(IOException.class);

    assertThat(handshakes("TLSv1.3")).isEqualTo(2);
    assertThat(handshakes("TLSv1.2")).isEqualTo(1);
    awaitCount(() -> failures("protocol"), 1);
    awaitCount(() -> failures("peer_certificate_unknown"), 1);
    assertThat(registry.find("foobar.tls.handshake.failures").counters()).hasSize(2);
  }

  @Test
  void clientWithoutCertificate_onRequiredClientAuth_countedAsClientCertificateFailure()
      throws Exception {
    Path certs = dir.resolve("certs");
    InternalCa.init(certs, Clock.systemUTC());
    List<Path> node = InternalCa.issue(certs, "backend1", List.of("127.0.0.1"), Clock.systemUTC());
    int port =
        start(
            ServerTls.builder("site")
                .certificate("backend.tls", new TlsConfig(node.get(0), node.get(1)))
                .clientCa("backend.tls.ca", certs.resolve("ca.pem"))
                .build(),
            true);

    assertThatThrownBy(() -> TlsTesting.get(anyServer(), port, null, List.of(), List.of()))
        .isInstanceOf(IOException.class);

    awaitCount(() -> failures("client_certificate"), 1);
    assertThat(handshakes("TLSv1.3")).isZero();
  }

  @Test
  void reason_namesPeerAlertsAndPolicyRefusals() {
    assertThat(
            TlsHandshakeMeters.reason(
                new javax.net.ssl.SSLHandshakeException("Received fatal alert: bad_certificate")))
        .isEqualTo("peer_bad_certificate");
    assertThat(
            TlsHandshakeMeters.reason(
                new javax.net.ssl.SSLHandshakeException("no cipher suites in common")))
        .isEqualTo("cipher");
    assertThat(
            TlsHandshakeMeters.reason(
                new javax.net.ssl.SSLException("Unsupported or unrecognized SSL message")))
        .isEqualTo("not_tls");
    assertThat(TlsHandshakeMeters.reason(new javax.net.ssl.SSLException("boom")))
        .isEqualTo("other");
  }
}
