package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.foobar.core.AccessLogConfig;
import com.foobar.core.Cidr;
import com.foobar.core.HostPort;
import com.foobar.core.LbConfig;
import com.foobar.core.Metrics;
import com.foobar.core.ServerTls;
import com.foobar.lb.LoadBalancerTest.Tiny;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link LoadBalancer#reconfigure} on a running lb: real listeners, real backends on loopback. */
class ReconfigureTest {
  static ServerTls tls;

  private final List<Tiny> backends = new ArrayList<>();
  private final Metrics metrics = Metrics.create("test");
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private LoadBalancer lb;

  @BeforeAll
  static void certificate() {
    tls = TestLb.selfSigned();
  }

  @AfterEach
  void stop() throws Exception {
    if (lb != null) {
      lb.stop();
    }
    for (Tiny t : backends) {
      t.release.countDown();
      t.server.stop(0);
    }
    metrics.close();
  }

  private Tiny tiny(String name) throws Exception {
    Tiny t = new Tiny(name);
    backends.add(t);
    return t;
  }

  /** An lb whose HTTP listener proxies, so that plain sockets and clients can talk to it. */
  private static TestLb config() {
    TestLb c = new TestLb();
    c.redirectHttp = false;
    return c;
  }

  private void start(TestLb config) {
    lb = LoadBalancer.start(config.build(), metrics, tls, Optional.empty());
  }

  private String url(String listener, String path) {
    return TestLb.url(lb, listener, path);
  }

  private int httpPort() {
    return lb.listeners().stream()
        .filter(l -> l.name().equals(LoadBalancer.HTTP_LISTENER))
        .findFirst()
        .orElseThrow()
        .address()
        .port();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(url(LoadBalancer.HTTP_LISTENER, path)))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private Map<String, Integer> spread(int requests) throws Exception {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < requests; i++) {
      counts.merge(get("/x").body(), 1, Integer::sum);
    }
    return counts;
  }

  private JsonNode stats() throws Exception {
    return new ObjectMapper()
        .readTree(
            client
                .send(
                    HttpRequest.newBuilder(
                            URI.create(url(LoadBalancer.ADMIN_LISTENER, "/stats?format=json")))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body());
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("condition within 10 s").isNegative();
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** A plain HTTP/1.1 keep-alive connection to the lb from {@code localAddress}. */
  private final class KeepAlive implements AutoCloseable {
    final Socket socket = new Socket();
    final BufferedReader in;
    final OutputStream out;

    KeepAlive(String localAddress) throws Exception {
      socket.bind(new InetSocketAddress(localAddress, 0));
      socket.connect(new InetSocketAddress("127.0.0.1", httpPort()), 5000);
      socket.setSoTimeout(5000);
      in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      out = socket.getOutputStream();
    }

    /** Status line and body of one request on this connection. */
    String get(String path) throws Exception {
      out.write(
          ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String status = in.readLine();
      int length = 0;
      for (String line = in.readLine(); !line.isEmpty(); line = in.readLine()) {
        if (line.toLowerCase().startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      char[] body = new char[length];
      for (int n = 0; n < length; ) {
        n += in.read(body, n, length - n);
      }
      return status + " " + new String(body);
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
    }
  }

  @Test
  void addedBackend_getsTraffic() throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    start(config().backend(a.url(), 1));
    assertThat(spread(4)).containsOnlyKeys("a");

    LoadBalancer.Reload reload =
        lb.reconfigure(config().backend(a.url(), 1).backend(b.url(), 1).build());

    assertThat(reload.applied()).containsExactly("lb.backends");
    assertThat(reload.restartNeeded()).isEmpty();
    assertThat(spread(10)).containsEntry("a", 5).containsEntry("b", 5);
    assertThat(stats().get("backends")).hasSize(2);
    assertThat(
            metrics.registry().find("foobar.lb.backend.requests").tag("backend", b.url()).timer())
        .isNotNull();
  }

  @Test
  void removedBackend_getsNoNewRequests_andItsInFlightRequestCompletes() throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    start(config().backend(a.url(), 1));
    CompletableFuture<HttpResponse<String>> slow =
        client.sendAsync(
            HttpRequest.newBuilder(URI.create(url(LoadBalancer.HTTP_LISTENER, "/slow"))).build(),
            HttpResponse.BodyHandlers.ofString());
    await(() -> a.hits.get() == 1);

    lb.reconfigure(config().backend(b.url(), 1).build());

    assertThat(spread(5)).containsOnly(Map.entry("b", 5));
    assertThat(a.hits.get()).isEqualTo(1);
    assertThat(stats().get("backends")).hasSize(1);
    assertThat(
            metrics.registry().find("foobar.lb.backend.requests").tag("backend", a.url()).timer())
        .as("the removed backend's pool and meters stay while its request is in flight")
        .isNotNull();
    a.release.countDown();
    HttpResponse<String> done = slow.get(10, TimeUnit.SECONDS);
    assertThat(done.statusCode()).isEqualTo(200);
    assertThat(done.body()).isEqualTo("a");
    await(
        () ->
            metrics.registry().find("foobar.lb.backend.requests").tag("backend", a.url()).timer()
                == null);
  }

  @Test
  void weightChange_appliesToTheNextRequests() throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    start(config().backend(a.url(), 3).backend(b.url(), 1));
    assertThat(spread(40)).containsEntry("a", 30).containsEntry("b", 10);

    lb.reconfigure(config().backend(a.url(), 1).backend(b.url(), 3).build());

    assertThat(spread(40)).containsEntry("a", 10).containsEntry("b", 30);
    assertThat(stats().get("backends").get(1).get("weight").asInt()).isEqualTo(3);
  }

  @Test
  void unchangedBackend_keepsItsHealthState_acrossABalanceChange() throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    start(config().backend(a.url(), 1).backend(b.url(), 1));
    a.ready = 500;
    await(() -> state(0).equals("down"));

    TestLb next = config().backend(a.url(), 1).backend(b.url(), 1);
    next.balance = LbConfig.Balance.LEAST_CONN;
    LoadBalancer.Reload reload = lb.reconfigure(next.build());

    assertThat(reload.applied()).containsExactly("lb.balance");
    assertThat(state(0)).isEqualTo("down");
    assertThat(spread(6)).containsOnly(Map.entry("b", 6));
  }

  private String state(int backend) {
    try {
      return stats().get("backends").get(backend).get("state").asText();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void denyListChange_refusesNewConnections_whileAnOpenKeepAliveConnectionGoesOn()
      throws Exception {
    Tiny a = tiny("a");
    Tiny b = tiny("b");
    start(config().backend(a.url(), 1));
    try (KeepAlive open = new KeepAlive("127.0.0.2")) {
      assertThat(open.get("/x")).isEqualTo("HTTP/1.1 200 OK a");

      TestLb next = config().backend(b.url(), 1);
      next.deny = List.of(Cidr.parse("127.0.0.2/32"));
      lb.reconfigure(next.build());

      try (KeepAlive fresh = new KeepAlive("127.0.0.2")) {
        assertThat(fresh.get("/x")).startsWith("HTTP/1.1 403");
      }
      try (KeepAlive other = new KeepAlive("127.0.0.3")) {
        assertThat(other.get("/x")).isEqualTo("HTTP/1.1 200 OK b");
      }
      assertThat(open.get("/x"))
          .as("the same connection, now to the new backend")
          .isEqualTo("HTTP/1.1 200 OK b");
    }
  }

  @Test
  void rateLimitChange_limitsTheNextRequests() throws Exception {
    Tiny a = tiny("a");
    start(config().backend(a.url(), 1));
    try (KeepAlive c = new KeepAlive("127.0.0.2")) {
      for (int i = 0; i < 5; i++) {
        assertThat(c.get("/x")).startsWith("HTTP/1.1 200");
      }
      TestLb next = config().backend(a.url(), 1);
      next.rateLimit = new LbConfig.RateLimitConfig(true, 1, 2);
      assertThat(lb.reconfigure(next.build()).applied())
          .containsExactly("lb.rate-limit.enabled", "lb.rate-limit.rate", "lb.rate-limit.burst");

      assertThat(c.get("/x")).startsWith("HTTP/1.1 200");
      assertThat(c.get("/x")).startsWith("HTTP/1.1 200");
      assertThat(c.get("/x")).startsWith("HTTP/1.1 429");
    }
  }

  @Test
  void headerLimitAndHsts_applyLive_listenerAndTimeoutChanges_needARestart() throws Exception {
    Tiny a = tiny("a");
    start(config().backend(a.url(), 1));
    HostPort before = lb.httpsAddress();
    TestLb next = config().backend(a.url(), 1);
    next.maxHeaders = 3;
    next.hsts = "off";
    next.idleTimeout = Duration.ofSeconds(5);
    next.https = new HostPort("127.0.0.1", 1);
    // applies to Content-Length bodies at once; Undertow's bound for chunked ones is from the start
    next.maxBody = 20 << 20;
    // the access log's writer and file belong to the listener
    next.accessLog =
        new AccessLogConfig(true, AccessLogConfig.Format.COMBINED, java.util.Optional.empty());

    LoadBalancer.Reload reload = lb.reconfigure(next.build());

    assertThat(reload.restartNeeded())
        .containsExactlyInAnyOrder(
            "lb.https.port",
            "lb.limits.idle-timeout",
            "lb.limits.max-body-size",
            "lb.access-log.enabled",
            "lb.access-log.format");
    assertThat(reload.applied()).containsExactlyInAnyOrder("lb.hsts", "lb.limits.max-headers");
    assertThat(lb.httpsAddress()).isEqualTo(before);
    HttpResponse<String> many =
        client.send(
            HttpRequest.newBuilder(URI.create(url(LoadBalancer.HTTP_LISTENER, "/x")))
                .headers("X-A", "1", "X-B", "2", "X-C", "3", "X-D", "4")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(many.statusCode()).isEqualTo(431);
    assertThat(get("/x").statusCode()).isEqualTo(200);
  }
}
