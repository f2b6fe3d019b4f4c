package com.foobar.lb;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.foobar.core.InternalCa;
import com.foobar.core.LbConfig;
import com.foobar.core.Metrics;
import com.foobar.core.PeerTls;
import com.foobar.core.ServerTls;
import com.foobar.core.TlsConfig;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS from the lb to its backends ({@code lb.upstream-tls}): the backend's certificate must come
 * from the internal CA <em>and</em> name the host of the backend URL.
 */
class UpstreamTlsTest {
  @TempDir static Path certs;
  static SSLContext upstream;

  private final Metrics metrics = Metrics.create("test");
  private final List<HttpsServer> backends = new ArrayList<>();
  private final AtomicInteger hits = new AtomicInteger();
  private LoadBalancer lb;

  @BeforeAll
  static void internalCa() {
    InternalCa.init(certs, Clock.systemUTC());
    List<Path> lbCert = InternalCa.issue(certs, "lb1", List.of("127.0.0.1"), Clock.systemUTC());
    upstream =
        PeerTls.client(
            "lb.upstream-tls", certs.resolve(InternalCa.CA_CERT), lbCert.get(0), lbCert.get(1));
  }

  @AfterEach
  void stop() throws Exception {
    if (lb != null) {
      lb.stop();
    }
    for (HttpsServer s : backends) {
      s.stop(0);
    }
    metrics.close();
  }

  /** A TLS backend with a certificate of the internal CA for {@code sans}; its URL. */
  private String backend(String node, List<String> sans) throws Exception {
    List<Path> files = InternalCa.issue(certs, node, sans, Clock.systemUTC());
    ServerTls tls =
        ServerTls.builder("backend")
            .certificate("backend.tls", new TlsConfig(files.get(0), files.get(1)))
            .build();
    HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(tls.sslContext()));
    server.createContext(
        "/",
        x -> {
          hits.incrementAndGet();
          byte[] body = node.getBytes(UTF_8);
          x.sendResponseHeaders(200, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    server.start();
    backends.add(server);
    return "https://127.0.0.1:" + server.getAddress().getPort();
  }

  /** One request through an lb in front of {@code backend} alone. */
  private HttpResponse<String> viaLb(String backend) throws Exception {
    return viaLb(backend, HttpClient.Version.HTTP_2);
  }

  /** As {@link #viaLb(String)}, asking for {@code version} (HTTP/1.1: the lb's relay). */
  private HttpResponse<String> viaLb(String backend, HttpClient.Version version) throws Exception {
    TestLb config = new TestLb().backend(backend, 1);
    // the first active check only: passive and active ejection stay out of the way
    config.health =
        new LbConfig.HealthConfig("/", Duration.ofHours(1), Duration.ofMillis(500), 2, 3);
    config.retries = new LbConfig.RetryConfig(0, 20, Duration.ofSeconds(10));
    ServerTls front = TestLb.selfSigned();
    lb = LoadBalancer.start(config.build(), metrics, front, Optional.of(upstream));
    HttpClient client =
        HttpClient.newBuilder()
            .sslContext(TestLb.trusting(front))
            .version(version)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    String url = lb.httpsAddress().url("https").replace("127.0.0.1", "localhost") + "/page";
    return client.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The status line and headers from {@code url} over a socket that checks the chain only. */
  private static String getWithoutHostCheck(String url) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    CertificateFactory x509 = CertificateFactory.getInstance("X.509");
    try (InputStream in = Files.newInputStream(certs.resolve(InternalCa.CA_CERT))) {
      trust.setCertificateEntry("ca", x509.generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext chainOnly = SSLContext.getInstance("TLS");
    chainOnly.init(null, tmf.getTrustManagers(), null);
    URI u = URI.create(url);
    try (SSLSocket s =
        (SSLSocket) chainOnly.getSocketFactory().createSocket(u.getHost(), u.getPort())) {
      s.setSoTimeout(5000);
      s.getOutputStream()
          .write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(UTF_8));
      return new String(s.getInputStream().readAllBytes(), UTF_8);
    }
  }

  @Test
  void backendCertificateForTheUrlsHost_isAccepted() throws Exception {
    HttpResponse<String> r = viaLb(backend("backend1", List.of("127.0.0.1", "localhost")));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("backend1");
  }

  @Test
  void backendCertificateOfTheCaForAnotherHost_isRefused_with502() throws Exception {
    String impostor = backend("backend2", List.of("10.0.0.12", "b2.internal"));
    assertThat(getWithoutHostCheck(impostor))
        .as("a client trusting the CA but not checking names gets an answer")
        .startsWith("HTTP/1.1 200");
    hits.set(0);

    HttpResponse<String> r = viaLb(impostor);

    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(hits).as("requests the impostor served").hasValue(0);
    assertThat(lastCheck())
        .as("the health check refuses it too")
        .contains("No subject alternative names matching IP address 127.0.0.1");
  }

  @Test
  void overHttp11_theRelayChecksTheBackendCertificateToo() throws Exception {
    HttpResponse<String> ok =
        viaLb(backend("backend1", List.of("127.0.0.1", "localhost")), HttpClient.Version.HTTP_1_1);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("backend1");
    assertThat(handoffs()).as("the relay served it over TLS itself").isZero();
    lb.stop();
    hits.set(0);

    HttpResponse<String> refused =
        viaLb(
            backend("backend2", List.of("10.0.0.12", "b2.internal")), HttpClient.Version.HTTP_1_1);
    assertThat(refused.statusCode()).isEqualTo(502);
    assertThat(hits).as("requests the impostor served").hasValue(0);
  }

  private double handoffs() {
    return metrics
        .registry()
        .find("foobar.lb.relay.handoffs")
        .tag("listener", "lb-https")
        .counters()
        .stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  /** The {@code last_check} of the only backend on {@code /stats}, once the first check ended. */
  private String lastCheck() throws Exception {
    String stats =
        lb.listeners().stream()
                .filter(l -> l.name().equals(LoadBalancer.ADMIN_LISTENER))
                .findFirst()
                .orElseThrow()
                .url()
            + "/stats?format=json";
    HttpClient plain = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      String body =
          plain
              .send(
                  HttpRequest.newBuilder(URI.create(stats)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      String check =
          new ObjectMapper().readTree(body).path("backends").path(0).path("last_check").asText();
      if (!check.equals("none yet") || System.nanoTime() > deadline) {
        return check;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }
}
