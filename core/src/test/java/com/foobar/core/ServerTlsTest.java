package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.undertow.server.HttpHandler;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Real TLS on loopback: the JDK's client against {@link HttpServer#httpsListener}. */
class ServerTlsTest {
  static {
    TlsTesting.init();
  }

  private static final HttpHandler OK = ex -> ex.getResponseSender().send("ok");

  @TempDir Path dir;
  private HttpServer server;
  private ServerTls tls;

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.stop();
    }
    if (tls != null) {
      tls.close();
    }
  }

  private int start(ServerTls t, boolean requireClientCertificate, boolean http2) {
    tls = t;
    server =
        HttpServer.builder(TlsTesting.LIMITS, new SimpleMeterRegistry())
            .listener(
                "plain",
                new HostPort("127.0.0.1", 0),
                AccessRule.of(List.of(Cidr.parse("127.0.0.0/8")), List.of()),
                Optional.empty(),
                "static",
                OK)
            .httpsListener(
                "tls",
                new HostPort("127.0.0.1", 0),
                AccessRule.of(List.of(Cidr.parse("127.0.0.0/8")), List.of()),
                Optional.empty(),
                "static",
                OK,
                t,
                requireClientCertificate,
                http2)
            .start();
    return server.address("tls").port();
  }

  private static SSLContext anyServer() throws Exception {
    return TlsTesting.client(Optional.empty());
  }

  @Test
  void selfSigned_httpClientTrustingIt_gets200() throws Exception {
    ServerTls t = ServerTls.builder("tls").selfSigned("www.foobar.test", Clock.systemUTC()).build();
    int port = start(t, false, false);
    HttpClient client =
        HttpClient.newBuilder().sslContext(TlsTesting.trusting(t.current().leaf())).build();

    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/")).build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("ok");
    assertThat(server.listeners().get(1).url()).startsWith("https://127.0.0.1:");
  }

  @Test
  void sni_picksTheCertificateWhoseNameMatches_elseTheDefault() throws Exception {
    TlsConfig fallback =
        TlsTesting.write(dir, "default", TlsTesting.selfSigned("EC", "default.test"));
    TlsConfig wildcard =
        TlsTesting.write(dir, "wild", TlsTesting.selfSigned("EC", "*.example.test"));
    TlsConfig rsa = TlsTesting.write(dir, "rsa", TlsTesting.selfSigned("RSA", "rsa.test"));
    int port =
        start(
            ServerTls.builder("tls")
                .certificate("lb.tls", fallback)
                .sni("lb.sni[0]", wildcard)
                .sni("lb.sni[1]", rsa)
                .build(),
            false,
            false);

    assertThat(names(port, "www.example.test")).containsExactly("*.example.test");
    assertThat(names(port, "rsa.test")).containsExactly("rsa.test");
    // a wildcard covers one label only
    assertThat(names(port, "a.b.example.test")).containsExactly("default.test");
    assertThat(names(port, "other.test")).containsExactly("default.test");
    assertThat(names(port, null)).containsExactly("default.test");
  }

  private static List<String> names(int port, String sni) throws Exception {
    return CertifiedKey.names(TlsTesting.get(anyServer(), port, sni, List.of(), List.of()).leaf());
  }

  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void protocolPolicy_tls11AndCbcRefused_tls13And12AeadServed(TlsEngine engine) throws Exception {
    int port =
        start(
            ServerTls.builder("tls")
                .selfSigned("www.foobar.test", Clock.systemUTC())
                .engine("tls-engine", engine)
                .build(),
            false,
            false);

    // refused with an alert that says why (OpenSSL's engine lost its alerts: see
    // MeteredSslEngine), not a connection that just ends
    assertThatThrownBy(() -> TlsTesting.get(anyServer(), port, null, List.of("TLSv1.1"), List.of()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Received fatal alert: protocol_version");
    assertThatThrownBy(
            () ->
                TlsTesting.get(
                    anyServer(),
                    port,
                    null,
                    List.of("TLSv1.2"),
                    List.of(
                        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
                        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Received fatal alert: handshake_failure");
    TlsTesting.Result v13 = TlsTesting.get(anyServer(), port, null, List.of("TLSv1.3"), List.of());
    assertThat(v13.protocol()).isEqualTo("TLSv1.3");
    assertThat(v13.statusLine()).isEqualTo("HTTP/1.1 200 OK");
    TlsTesting.Result v12 =
        TlsTesting.get(
            anyServer(),
            port,
            null,
            List.of("TLSv1.2"),
            List.of("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"));
    assertThat(v12.protocol()).isEqualTo("TLSv1.2");
  }

  /** testssl.sh's "Secure Client-Initiated Renegotiation: VULNERABLE, DoS threat" finding. */
  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void clientInitiatedRenegotiation_onTls12_isRefused(TlsEngine engine) throws Exception {
    int port =
        start(
            ServerTls.builder("tls")
                .selfSigned("www.foobar.test", Clock.systemUTC())
                .engine("tls-engine", engine)
                .build(),
            false,
            false);

    try (SSLSocket s = (SSLSocket) anyServer().getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.setEnabledProtocols(new String[] {"TLSv1.2"});
      s.startHandshake();
      s.getSession().invalidate();
      assertThatThrownBy(
              () -> {
                s.startHandshake();
                s.getOutputStream()
                    .write(
                        "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                s.getInputStream().read();
              })
          .isInstanceOf(IOException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(TlsEngine.class)
  void reload_newConnectionsSeeNewCertificate_brokenFileKeepsOldOne(TlsEngine engine)
      throws Exception {
    TlsConfig files = TlsTesting.write(dir, "site", TlsTesting.selfSigned("EC", "old.test"));
    int port =
        start(
            ServerTls.builder("tls")
                .certificate("lb.tls", files)
                .engine("tls-engine", engine)
                .build(),
            false,
            false);
    assertThat(names(port, null)).containsExactly("old.test");

    assertThat(tls.reloadIfChanged()).as("nothing changed yet").isFalse();
    TlsTesting.write(dir, "site", TlsTesting.selfSigned("RSA", "new.test"));
    // a coarse file system clock could give the new file the old time
    Files.setLastModifiedTime(
        files.cert(),
        FileTime.fromMillis(Files.getLastModifiedTime(files.cert()).toMillis() + 10_000));
    assertThat(tls.reloadIfChanged()).isTrue();
    assertThat(names(port, null)).containsExactly("new.test");

    try (LogCapture logs = new LogCapture(ServerTls.class)) {
      Files.writeString(files.key(), "garbage\n");
      assertThat(tls.reload()).isFalse();
      assertThat(names(port, null)).containsExactly("new.test");
      assertThat(logs.events("tls.reload_failed")).hasSize(1);
      assertThat(LogCapture.value(logs.events("tls.reload_failed").get(0), "reason"))
          .hasValueSatisfying(
              r -> assertThat(r).isEqualTo("lb.tls.key: " + files.key() + " holds no private key"));
      assertThat(logs.events("tls.reloaded")).isEmpty();
    }
    assertThat(tls.reloadIfChanged()).as("no change since the failed reload").isFalse();
  }

  @Test
  void clientCertificateRequired_onlyCertificatesFromTheCaGetIn() throws Exception {
    Path certs = dir.resolve("certs");
    InternalCa.init(certs, Clock.systemUTC());
    List<Path> backend =
        InternalCa.issue(certs, "backend1", List.of("127.0.0.1"), Clock.systemUTC());
    List<Path> lb = InternalCa.issue(certs, "lb1", List.of("127.0.0.1"), Clock.systemUTC());
    Path other = dir.resolve("other");
    InternalCa.init(other, Clock.systemUTC());
    List<Path> stranger = InternalCa.issue(other, "lb1", List.of("127.0.0.1"), Clock.systemUTC());
    int port =
        start(
            ServerTls.builder("tls")
                .certificate("backend.tls", new TlsConfig(backend.get(0), backend.get(1)))
                .clientCa("backend.tls.ca", certs.resolve("ca.pem"))
                .build(),
            true,
            false);
    SSLContext lbClient =
        PeerTls.client("lb.upstream-tls", certs.resolve("ca.pem"), lb.get(0), lb.get(1));

    HttpClient withCert = HttpClient.newBuilder().sslContext(lbClient).build();
    HttpResponse<String> r =
        withCert.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);

    assertThatThrownBy(() -> TlsTesting.get(anyServer(), port, null, List.of(), List.of()))
        .as("no client certificate")
        .isInstanceOf(IOException.class);
    CertifiedKey strangerKey = CertifiedKey.load("x", stranger.get(0), stranger.get(1));
    assertThatThrownBy(
            () ->
                TlsTesting.get(
                    TlsTesting.client(Optional.of(strangerKey)), port, null, List.of(), List.of()))
        .as("certificate from another CA")
        .isInstanceOf(IOException.class);
  }

  @Test
  void peerClient_refusesServerFromAnotherCa() throws Exception {
    Path certs = dir.resolve("certs");
    InternalCa.init(certs, Clock.systemUTC());
    List<Path> lb = InternalCa.issue(certs, "lb1", List.of("127.0.0.1"), Clock.systemUTC());
    int port =
        start(
            ServerTls.builder("tls").selfSigned("127.0.0.1", Clock.systemUTC()).build(),
            false,
            false);
    SSLContext lbClient =
        PeerTls.client("lb.upstream-tls", certs.resolve("ca.pem"), lb.get(0), lb.get(1));
    assertThatThrownBy(() -> TlsTesting.get(lbClient, port, null, List.of(), List.of()))
        .isInstanceOf(IOException.class);
  }

  @Test
  void curlHttp2_negotiatesH2OnHttps_butNoH2cOnThePlainListener() throws Exception {
    // scripts/test.sh installs curl
    int port =
        start(
            ServerTls.builder("tls").selfSigned("www.foobar.test", Clock.systemUTC()).build(),
            false,
            true);
    assertThat(curl("https://127.0.0.1:" + port + "/")).isEqualTo("2");
    assertThat(curl(server.listeners().get(0).url() + "/")).isEqualTo("1.1");
  }

  private static String curl(String url) throws Exception {
    Process p =
        new ProcessBuilder(
                "curl",
                "-sk",
                "--http2",
                "--max-time",
                "10",
                "-o",
                "/dev/null",
                "-w",
                "%{http_version}",
                url)
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
  }
}
