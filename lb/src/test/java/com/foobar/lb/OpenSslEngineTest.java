package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.Metrics;
import com.foobar.core.ServerTls;
import com.foobar.core.TlsConfig;
import com.foobar.core.TlsEngine;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lb with {@code tls-engine: openssl}, for an ECDSA (the self-signed default) and an RSA
 * certificate: h2 by ALPN and HTTP/1.1 with the JDK's client, HSTS, handshakes counted.
 */
class OpenSslEngineTest {
  @TempDir Path dir;

  private final Metrics metrics = Metrics.create("test");
  private LoadBalancerTest.Tiny backend;
  private LoadBalancer lb;

  @AfterEach
  void stop() throws Exception {
    if (lb != null) {
      lb.stop();
    }
    if (backend != null) {
      backend.server.stop(0);
    }
    metrics.close();
  }

  private ServerTls tls(String algorithm) throws Exception {
    ServerTls.Builder b = ServerTls.builder(LoadBalancer.HTTPS_LISTENER);
    if (algorithm.equals("EC")) {
      b.selfSigned("localhost", Clock.systemUTC());
    } else {
      Path cert = dir.resolve("rsa.pem");
      Path key = dir.resolve("rsa-key.pem");
      Process openssl =
          new ProcessBuilder(
                  "openssl",
                  "req",
                  "-x509",
                  "-newkey",
                  "rsa:2048",
                  "-nodes",
                  "-days",
                  "2",
                  "-subj",
                  "/CN=localhost",
                  "-addext",
                  "subjectAltName=DNS:localhost",
                  "-keyout",
                  key.toString(),
                  "-out",
                  cert.toString())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      assertThat(openssl.waitFor()).isZero();
      b.certificate("lb.tls", new TlsConfig(cert, key));
    }
    return b.engine("lb.tls-engine", TlsEngine.OPENSSL).build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"EC", "RSA"})
  void openSsl_servesH2AndHttp11WithHsts_andCountsHandshakes(String algorithm) throws Exception {
    ServerTls tls = tls(algorithm);
    assertThat(tls.current().key().getAlgorithm()).isEqualTo(algorithm);
    backend = new LoadBalancerTest.Tiny("a");
    lb =
        LoadBalancer.start(
            new TestLb().backend(backend.url(), 1).build(), metrics, tls, Optional.empty());
    SSLContext trusting = TestLb.trusting(tls);
    String url = lb.httpsAddress().url("https").replace("127.0.0.1", "localhost") + "/x";

    for (HttpClient.Version version : HttpClient.Version.values()) {
      HttpClient client =
          HttpClient.newBuilder()
              .sslContext(trusting)
              .version(version)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("a");
      assertThat(r.version()).as("negotiated by ALPN").isEqualTo(version);
      assertThat(r.headers().firstValue("strict-transport-security"))
          .contains("max-age=63072000; includeSubDomains");
    }
    TestLb.await(() -> handshakes("TLSv1.3") == 2);
  }

  /**
   * The policy lives on OpenSSL's context, not on each engine: TLS 1.2 and 1.3 only, AEAD suites
   * only, and the server's order wins. Checked with OpenSSL's own client, which still offers what
   * the JDK's client no longer does (TLS 1.1, CBC suites).
   */
  @ParameterizedTest
  @ValueSource(strings = {"EC", "RSA"})
  void openSsl_keepsThePolicy_refusesOldProtocolsAndCbc_andPrefersItsOwnOrder(String algorithm)
      throws Exception {
    ServerTls tls = tls(algorithm);
    backend = new LoadBalancerTest.Tiny("a");
    lb =
        LoadBalancer.start(
            new TestLb().backend(backend.url(), 1).build(), metrics, tls, Optional.empty());
    String kx = algorithm.equals("EC") ? "ECDHE-ECDSA" : "ECDHE-RSA";

    assertThat(sClient("-tls1_3")).contains("TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256");
    assertThat(
            sClient(
                "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"))
        .as("the server's order, not the client's")
        .contains("Cipher is TLS_AES_256_GCM_SHA384");
    assertThat(sClient("-tls1_2")).contains("TLSv1.2, Cipher is " + kx + "-AES128-GCM-SHA256");
    assertThat(
            sClient("-tls1_2", "-cipher", kx + "-AES256-GCM-SHA384:" + kx + "-AES128-GCM-SHA256"))
        .contains("Cipher is " + kx + "-AES128-GCM-SHA256");
    assertThat(sClient("-tls1_2", "-cipher", kx + "-AES128-SHA:AES128-GCM-SHA256:AES128-SHA"))
        .as("CBC and static-RSA suites are not served")
        .contains("Cipher is (NONE)");
    assertThat(sClient("-tls1_1")).contains("Cipher is (NONE)");
    assertThat(sClient("-tls1")).contains("Cipher is (NONE)");
  }

  /** What {@code openssl s_client} prints about a handshake with the lb's HTTPS listener. */
  private String sClient(String... options) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of("openssl", "s_client", "-connect", "127.0.0.1:" + lb.httpsAddress().port()));
    command.addAll(List.of(options));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  private double handshakes(String protocol) {
    return metrics
        .registry()
        .find("foobar.tls.handshakes")
        .tags("listener", LoadBalancer.HTTPS_LISTENER, "protocol", protocol)
        .meters()
        .stream()
        .mapToDouble(m -> m.measure().iterator().next().getValue())
        .sum();
  }
}
