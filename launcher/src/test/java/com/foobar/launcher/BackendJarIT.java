package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code java -jar foobar.jar --role=backend --config=F} over real sockets. */
class BackendJarIT {
  @TempDir static Path dir;
  static JarProcess jar;
  static int port;
  static int admin;
  static Path root;
  static Path accessLog;
  static final HttpClient client = HttpClient.newHttpClient();
  static final String HELLO = "hello from the configured root\n".repeat(40);

  @BeforeAll
  static void start() throws Exception {
    root = Files.createDirectories(dir.resolve("site"));
    Files.writeString(root.resolve("hello.txt"), HELLO);
    Files.createDirectories(root.resolve("docs"));
    Files.writeString(root.resolve("docs/index.html"), "<h1>docs</h1>");
    Files.createSymbolicLink(root.resolve("passwd"), Path.of("/etc/passwd"));
    accessLog = dir.resolve("access.log");
    port = JarProcess.freePort();
    admin = JarProcess.freePort();
    Path config =
        JarProcess.config(
            dir,
            """
            node: it-node
            backend:
              listen: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              allow: [127.0.0.1/32, "::1/128"]
              admin-access: {allow: [127.0.0.1/32], deny: []}
              static: {root: %s}
              limits:
                max-uri-length: 1KiB
                max-header-size: 4KiB
                max-headers: 20
                request-header-timeout: 1s
                idle-timeout: 5s
              access-log: {enabled: true, format: json, file: %s}
            """
                .formatted(port, admin, root, accessLog));
    jar = JarProcess.start(dir, "--role=backend", "--config=" + config);
    jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(20));
  }

  @AfterAll
  static void stop() {
    jar.close();
  }

  static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void get_servesConfiguredRoot_withValidators() throws Exception {
    HttpResponse<String> r = get("/hello.txt");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(HELLO);
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(r.headers().firstValue("etag")).isPresent();
    assertThat(r.headers().firstValue("last-modified")).isPresent();
  }

  @Test
  void conditionalGet_matchingEtag_returns304() throws Exception {
    String etag = get("/hello.txt").headers().firstValue("etag").orElseThrow();
    HttpResponse<String> r = get("/hello.txt", "If-None-Match", etag);
    assertThat(r.statusCode()).isEqualTo(304);
    assertThat(r.body()).isEmpty();
  }

  @Test
  void range_returns206WithContentRange() throws Exception {
    HttpResponse<String> r = get("/hello.txt", "Range", "bytes=6-9");
    assertThat(r.statusCode()).isEqualTo(206);
    assertThat(r.body()).isEqualTo("from");
    assertThat(r.headers().firstValue("content-range")).hasValue("bytes 6-9/" + HELLO.length());
  }

  @Test
  void directory_servesIndexFile() throws Exception {
    assertThat(get("/docs/").body()).isEqualTo("<h1>docs</h1>");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E%2F%2E%2E%2Fetc/passwd",
        "/docs/..%2f..%2f..%2fetc/passwd",
        "/..%5c..%5c..%5cetc%5cpasswd",
        "/hello.txt%00.html",
        "/passwd"
      })
  void traversal_neverLeavesRoot(String target) throws Exception {
    String response = RawHttp.get(port, target);
    assertThat(RawHttp.status(response)).as(target).isIn(400, 404);
    assertThat(response).doesNotContain("root:x:0:0");
  }

  @Test
  void post_returns405WithAllow() throws Exception {
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello.txt"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("allow"))
        .hasValueSatisfying(v -> assertThat(v).contains("GET").contains("HEAD"));
  }

  @Test
  void longUri_returns414() throws Exception {
    String response = RawHttp.get(port, "/" + "a".repeat(2000));
    assertThat(RawHttp.status(response)).isEqualTo(414);
  }

  @Test
  void largeHeaders_return431() throws Exception {
    String response =
        RawHttp.exchange(
            "127.0.0.1",
            port,
            "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Big: "
                + "b".repeat(5000)
                + "\r\nConnection: close\r\n\r\n");
    assertThat(RawHttp.status(response)).isEqualTo(431);
  }

  @Test
  void tooManyHeaders_return431() throws Exception {
    StringBuilder request = new StringBuilder("GET /hello.txt HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 30; i++) {
      request.append("X-H").append(i).append(": v\r\n");
    }
    request.append("Connection: close\r\n\r\n");
    assertThat(RawHttp.status(RawHttp.exchange("127.0.0.1", port, request.toString())))
        .isEqualTo(431);
  }

  @Test
  void slowClient_closedAfterRequestHeaderTimeout() throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port));
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes());
      s.getOutputStream().flush();
      long start = System.nanoTime();
      // the request never completes: the server must close within its 1 s header timeout
      int read = s.getInputStream().read();
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      String rest = read < 0 ? "" : (char) read + RawHttp.readAll(s.getInputStream());
      assertThat(rest).doesNotContain(HELLO);
      assertThat(waited).isBetween(500L, 8_000L);
    }
  }

  @Test
  void peerOutsideAllowList_gets403_andIsCounted() throws Exception {
    String refused =
        RawHttp.exchange(
            "127.0.0.2", port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(RawHttp.status(refused)).isEqualTo(403);
    assertThat(refused).doesNotContain(HELLO);
    String adminRefused =
        RawHttp.exchange(
            "127.0.0.2", admin, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(RawHttp.status(adminRefused)).isEqualTo(403);
    String allowed =
        RawHttp.exchange(
            "127.0.0.1", port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertThat(RawHttp.status(allowed)).isEqualTo(200);
    String metrics = scrape();
    assertThat(metrics)
        .containsPattern(
            "foobar_listener_refused_total\\{listener=\"backend\",node=\"it-node\"\\} [1-9]");
    assertThat(metrics)
        .containsPattern(
            "foobar_listener_refused_total\\{listener=\"backend-admin\",node=\"it-node\"\\} [1-9]");
  }

  @Test
  void admin_healthReadyMetrics() throws Exception {
    HttpResponse<String> health =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/health")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    HttpResponse<String> ready =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/ready")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("ready");
    get("/hello.txt");
    String metrics =
        scrapeUntil(
            "http_server_requests_seconds_count\\{listener=\"backend\",method=\"GET\",node=\"it-node\",route=\"static\",status=\"200\"\\} [1-9]");
    assertThat(metrics).contains("jvm_memory_used_bytes", "process_cpu_usage");
    assertThat(metrics).contains("foobar_listener_connections{listener=\"backend\"");
  }

  @Test
  void metrics_passPromtoolCheck() throws Exception {
    get("/hello.txt");
    get("/missing");
    Process promtool = new ProcessBuilder("promtool", "check", "metrics").start();
    promtool.getOutputStream().write(scrape().getBytes(StandardCharsets.UTF_8));
    promtool.getOutputStream().close();
    String out =
        new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
            + new String(promtool.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(out).as("promtool output").isEmpty();
    assertThat(promtool.exitValue()).isZero();
  }

  @Test
  void accessLog_oneJsonLinePerRequest() throws Exception {
    get("/hello.txt?via=accesslog", "User-Agent", "it-agent", "X-Request-Id", "rid-42");
    ObjectMapper json = new ObjectMapper();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      for (String line : Files.readAllLines(accessLog)) {
        JsonNode n = json.readTree(line);
        if (n.path("uri").asText().equals("/hello.txt?via=accesslog")) {
          assertThat(n.path("status").asInt()).isEqualTo(200);
          assertThat(n.path("method").asText()).isEqualTo("GET");
          assertThat(n.path("remote").asText()).isEqualTo("127.0.0.1");
          assertThat(n.path("user_agent").asText()).isEqualTo("it-agent");
          assertThat(n.path("request_id").asText()).isEqualTo("rid-42");
          assertThat(n.path("listener").asText()).isEqualTo("backend");
          return;
        }
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
    throw new AssertionError("no access line for the request in " + Files.readString(accessLog));
  }

  @Test
  void stdout_isJsonLinesWithEventRoleNode() throws IOException {
    ObjectMapper json = new ObjectMapper();
    String[] lines = jar.stdout().split("\n");
    assertThat(lines).isNotEmpty();
    boolean sawReady = false;
    for (String line : lines) {
      JsonNode n = json.readTree(line);
      assertThat(n.has("ts") && n.has("level") && n.has("logger") && n.has("msg")).isTrue();
      assertThat(n.path("node").asText()).isEqualTo("it-node");
      assertThat(n.path("role").asText()).isNotEmpty();
      sawReady |= n.path("event").asText().equals("foobar.ready");
    }
    assertThat(sawReady).as("a foobar.ready event").isTrue();
  }

  /** Scrapes until {@code pattern} shows (timers are recorded as exchanges complete). */
  static String scrapeUntil(String pattern) throws Exception {
    java.util.regex.Pattern p = java.util.regex.Pattern.compile(pattern);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    String metrics = scrape();
    while (!p.matcher(metrics).find() && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(20);
      metrics = scrape();
    }
    assertThat(metrics).containsPattern(p);
    return metrics;
  }

  static String scrape() throws Exception {
    return client
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
