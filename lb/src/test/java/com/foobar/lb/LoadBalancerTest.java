package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.foobar.core.LbConfig;
import com.foobar.core.Metrics;
import com.foobar.core.ServerTls;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lb end to end: real HTTPS listener, real backends on loopback. */
class LoadBalancerTest {
  @TempDir static Path dir;
  static ServerTls tls;
  static SSLContext clientTls;

  private final List<Tiny> backends = new ArrayList<>();
  private final Metrics metrics = Metrics.create("test");
  private LoadBalancer lb;
  private HttpClient client;

  @BeforeAll
  static void certificate() throws Exception {
    tls = TestLb.selfSigned();
    clientTls = TestLb.trusting(tls);
  }

  @AfterEach
  void stop() throws Exception {
    if (lb != null) {
      lb.stop();
    }
    for (Tiny t : backends) {
      t.server.stop(0);
    }
    metrics.close();
  }

  /** A backend answering its name; {@code /ready} answers {@link #ready}; {@code /slow} waits. */
  static final class Tiny {
    final String name;
    final HttpServer server;
    final AtomicInteger hits = new AtomicInteger();
    final Map<String, String> lastHeaders = new ConcurrentHashMap<>();
    volatile int ready = 200;
    final CountDownLatch release = new CountDownLatch(1);

    Tiny(String name) throws IOException {
      this.name = name;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
      server.setExecutor(Executors.newCachedThreadPool());
      server.createContext(
          "/ready",
          x -> {
            x.sendResponseHeaders(ready, -1);
            x.close();
          });
      server.createContext(
          "/",
          x -> {
            hits.incrementAndGet();
            x.getRequestHeaders().forEach((k, v) -> lastHeaders.put(k.toLowerCase(), v.get(0)));
            if (x.getRequestURI().getPath().startsWith("/slow")) {
              try {
                release.await(5, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
          });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }
  }

  private Tiny tiny(String name) throws IOException {
    Tiny t = new Tiny(name);
    backends.add(t);
    return t;
  }

  /**
   * The protocol the client asks for: HTTP/2 here (Undertow's proxy); HTTP/1.1 in {@link
   * LoadBalancerHttp1Test} (the {@link H1Relay}).
   */
  HttpClient.Version version() {
    return HttpClient.Version.HTTP_2;
  }

  private void start(TestLb config) throws Exception {
    lb = LoadBalancer.start(config.build(), metrics, tls, Optional.empty());
    client =
        HttpClient.newBuilder()
            .sslContext(clientTls)
            .version(version())
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  private String https(String path) {
    return lb.httpsAddress().url("https").replace("127.0.0.1", "localhost") + path;
  }

  private String url(String listener, String path) {
    return TestLb.url(lb, listener, path);
  }

  private HttpResponse<String> get(String url, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("condition within 10 s").isNegative();
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  @Test
  void roundRobin_distributesExactlyByWeight_overHttp2() throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    start(new TestLb().backend(a.url(), 3).backend(b.url(), 1));
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      HttpResponse<String> r = get(https("/x"));
      assertThat(r.version()).isEqualTo(version());
      counts.merge(r.body(), 1, Integer::sum);
    }
    assertThat(counts).containsEntry("a", 30).containsEntry("b", 10);
  }

  @Test
  void https_carriesHsts_andForwardedHeadersReachBackend() throws Exception {
    Tiny a = tiny("a");
    start(new TestLb().backend(a.url(), 1));
    HttpResponse<String> r =
        get(https("/p?q=1"), "X-Forwarded-For", "203.0.113.9", "X-Request-Id", "spoofed");
    assertThat(r.headers().firstValue("strict-transport-security"))
        .contains("max-age=63072000; includeSubDomains");
    assertThat(a.lastHeaders)
        .containsEntry("x-forwarded-for", "203.0.113.9,127.0.0.1")
        .containsEntry("x-forwarded-proto", "https")
        .containsEntry("x-forwarded-host", "localhost:" + lb.httpsAddress().port());
    assertThat(a.lastHeaders.get("x-request-id")).isNotEqualTo("spoofed").hasSize(36);
    assertThat(r.headers().firstValue("x-request-id")).contains(a.lastHeaders.get("x-request-id"));
  }

  @Test
  void http_redirects308KeepingHostAndPath_butProxiesAcme() throws Exception {
    Tiny a = tiny("a");
    start(new TestLb().backend(a.url(), 1));
    String http = url(LoadBalancer.HTTP_LISTENER, "").replace("127.0.0.1", "localhost");
    HttpResponse<String> r = get(http + "/a/b?c=d");
    assertThat(r.statusCode()).isEqualTo(308);
    assertThat(r.headers().firstValue("location"))
        .contains("https://localhost:" + lb.httpsAddress().port() + "/a/b?c=d");
    HttpResponse<String> acme = get(http + "/.well-known/acme-challenge/token");
    assertThat(acme.statusCode()).isEqualTo(200);
    assertThat(acme.body()).isEqualTo("a");
    assertThat(acme.headers().firstValue("strict-transport-security")).isEmpty();
  }

  @Test
  void health_downAfterFall_upAfterRise_andStatsShowIt() throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    start(new TestLb().backend(a.url(), 1).backend(b.url(), 1));
    String stats = url(LoadBalancer.ADMIN_LISTENER, "/stats?format=json");
    a.ready = 500;
    await(() -> state(stats, 0).equals("down"));
    for (int i = 0; i < 10; i++) {
      assertThat(get(https("/")).body()).isEqualTo("b");
    }
    a.ready = 200;
    await(() -> state(stats, 0).equals("up"));
    JsonNode json = new ObjectMapper().readTree(get(stats).body());
    assertThat(json.get("backends").get(1).get("backend").asText()).isEqualTo(b.url());
    assertThat(json.get("backends").get(1).get("requests").asLong()).isGreaterThanOrEqualTo(10);
    assertThat(get(url(LoadBalancer.ADMIN_LISTENER, "/stats")).body())
        .contains("http-equiv=\"refresh\" content=\"5\"");
  }

  @Test
  void drainingBackend_getsNoNewRequests() throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    start(new TestLb().backend(a.url(), 1).backend(b.url(), 1));
    String stats = url(LoadBalancer.ADMIN_LISTENER, "/stats?format=json");
    a.ready = 503;
    await(() -> state(stats, 0).equals("draining"));
    int before = a.hits.get();
    for (int i = 0; i < 10; i++) {
      get(https("/"));
    }
    assertThat(a.hits.get()).isEqualTo(before);
  }

  private String state(String stats, int backend) {
    try {
      return new ObjectMapper()
          .readTree(get(stats).body())
          .get("backends")
          .get(backend)
          .get("state")
          .asText();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void killedBackendUnderLoad_noFailedClientRequests() throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    TestLb config = new TestLb().backend(a.url(), 1).backend(b.url(), 1);
    config.retries = new com.foobar.core.LbConfig.RetryConfig(2, 50, Duration.ofSeconds(10));
    start(config);
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger ok = new AtomicInteger();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread th =
          new Thread(
              () -> {
                while (System.nanoTime() < end) {
                  try {
                    HttpResponse<String> r = get(https("/"));
                    if (r.statusCode() == 200) {
                      ok.incrementAndGet();
                    } else {
                      failures.add(r.statusCode() + " " + r.body());
                    }
                  } catch (Exception e) {
                    failures.add(e.toString());
                  }
                }
              });
      th.start();
      threads.add(th);
    }
    TimeUnit.MILLISECONDS.sleep(500);
    a.server.stop(0);
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failures).isEmpty();
    assertThat(ok.get()).isPositive();
    assertThat(b.hits.get()).isPositive();
  }

  /** One HTTP/1.1 GET over TLS from {@code localAddress}; returns the status line. */
  private String getFrom(String localAddress, String path) throws Exception {
    javax.net.ssl.SSLSocketFactory factory = clientTls.getSocketFactory();
    try (java.net.Socket plain = new java.net.Socket()) {
      plain.bind(new InetSocketAddress(localAddress, 0));
      plain.connect(new InetSocketAddress("127.0.0.1", lb.httpsAddress().port()), 5000);
      plain.setSoTimeout(5000);
      try (javax.net.ssl.SSLSocket socket =
          (javax.net.ssl.SSLSocket)
              factory.createSocket(plain, "localhost", plain.getPort(), false)) {
        socket
            .getOutputStream()
            .write(
                ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        String response =
            new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        return response.substring(0, response.indexOf("\r\n"))
            + (response.contains("Retry-After: ") ? " retry-after" : "");
      }
    }
  }

  @Test
  void rateLimit_perClientIp_429WithRetryAfter_otherClientsUnaffected() throws Exception {
    Tiny a = tiny("a");
    TestLb config = new TestLb().backend(a.url(), 1);
    config.rateLimit = new LbConfig.RateLimitConfig(true, 1, 3);
    start(config);

    for (int i = 0; i < 3; i++) {
      assertThat(getFrom("127.0.0.2", "/x")).isEqualTo("HTTP/1.1 200 OK");
    }
    assertThat(getFrom("127.0.0.2", "/x")).startsWith("HTTP/1.1 429").endsWith("retry-after");
    assertThat(getFrom("127.0.0.3", "/x")).isEqualTo("HTTP/1.1 200 OK");
    assertThat(
            metrics
                .registry()
                .get("foobar.ratelimit.rejected")
                .tag("listener", LoadBalancer.HTTPS_LISTENER)
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void redirectHttpOff_theHttpListenerProxies() throws Exception {
    Tiny a = tiny("a");
    TestLb config = new TestLb().backend(a.url(), 1);
    config.redirectHttp = false;
    start(config);

    HttpResponse<String> r = get(url(LoadBalancer.HTTP_LISTENER, "/plain"));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("a");
    assertThat(a.lastHeaders).containsEntry("x-forwarded-proto", "http");
  }

  @Test
  void queueFull_gets503() throws Exception {
    Tiny a = tiny("a");
    TestLb config = new TestLb().backend(a.url(), 1);
    config.pool = new com.foobar.core.LbConfig.PoolConfig(1, 0, Duration.ofSeconds(1));
    start(config);
    var slow =
        client.sendAsync(
            HttpRequest.newBuilder(URI.create(https("/slow"))).build(),
            HttpResponse.BodyHandlers.ofString());
    await(() -> a.hits.get() == 1);
    HttpResponse<String> r = get(https("/"), "Accept", "application/json");
    a.release.countDown();
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("\"error\":\"service_unavailable\"");
    assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void slowUpstream_gets504() throws Exception {
    Tiny a = tiny("a");
    TestLb config = new TestLb().backend(a.url(), 1);
    config.requestTimeout = Duration.ofMillis(300);
    start(config);
    HttpResponse<String> r = get(https("/slow"));
    a.release.countDown();
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).contains("<h1>504</h1>");
  }

  @Test
  void noBackendAnswers_gets502() throws Exception {
    Tiny a = tiny("a");
    start(new TestLb().backend(a.url(), 1));
    a.server.stop(0);
    HttpResponse<String> r = get(https("/"), "Accept", "application/json");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.body()).contains("bad_gateway");
  }

  @Test
  void drain_readyTurns503_andNewRequestsGet503() throws Exception {
    Tiny a = tiny("a");
    start(new TestLb().backend(a.url(), 1));
    assertThat(lb.drain(Duration.ofSeconds(2))).isTrue();
    assertThat(get(url(LoadBalancer.ADMIN_LISTENER, "/ready")).statusCode()).isEqualTo(503);
    assertThat(get(https("/")).statusCode()).isEqualTo(503);
  }
}
