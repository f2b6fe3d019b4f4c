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
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
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
