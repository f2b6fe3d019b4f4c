package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code links} app in the real jar on the embedded database, driven by the {@code curl}
 * binary: create → redirect → stats, and clicks that survive a graceful stop.
 */
class LinksJarIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void roleAll_withoutConfig_createRedirectStats_withCurl() throws Exception {
    try (JarProcess jar = JarProcess.start(dir)) {
      jar.awaitReady("http://127.0.0.1:9101/ready", Duration.ofSeconds(30));
      assertThat(jar.stderr()).contains("embedded H2 (MySQL mode) at " + dir.toRealPath());
      String site = "https://127.0.0.1:8443"; // through the lb (self-signed: curl -k)
      JarProcess.awaitBackendsUp("http://127.0.0.1:9101/stats?format=json", 2);

      Curl created = postJson(site + "/api/links", "{\"url\":\"https://example.com/a?b=c\"}");
      assertThat(created.status()).isEqualTo(201);
      JsonNode link = JSON.readTree(created.body());
      String code = link.path("code").asText();
      assertThat(code).matches("[A-Za-z0-9]{7}");
      assertThat(link.path("url").asText()).isEqualTo("https://example.com/a?b=c");
      assertThat(link.path("short").asText()).isEqualTo(site + "/r/" + code);

      Curl redirect = curl(site + "/r/" + code);
      assertThat(redirect.status()).isEqualTo(302);
      assertThat(redirect.headers()).containsIgnoringCase("location: https://example.com/a?b=c");

      assertThat(curl(site + "/r/nope-nope").status()).isEqualTo(404);
      // HTTP/1.1 takes the lb's relay, over mTLS to the backends too
      Curl h1 = curl("--http1.1", site + "/r/" + code);
      assertThat(h1.status()).isEqualTo(302);
      assertThat(h1.headers()).containsIgnoringCase("location: https://example.com/a?b=c");
      assertThat(curl("http://127.0.0.1:9101/metrics").body())
          .containsPattern("foobar_lb_relay_handoffs_total\\{listener=\"lb-https\"[^}]*} 0\\.0");

      // clicks are flushed in batches (every second by default): poll, bounded
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      JsonNode stats;
      do {
        Curl s = curl(site + "/api/links/" + code);
        assertThat(s.status()).isEqualTo(200);
        stats = JSON.readTree(s.body());
      } while (stats.path("clicks").asLong() < 1 && System.nanoTime() < deadline);
      assertThat(stats.path("clicks").asLong()).isEqualTo(2);
      assertThat(stats.path("url").asText()).isEqualTo("https://example.com/a?b=c");
      assertThat(stats.path("created").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
      assertThat(Files.exists(dir.resolve("data/foobar.mv.db"))).isTrue();
      assertThat(jar.terminate()).isZero();
      // the request id the lb gave the client is in the backend's access log line
      String requestId = header(created.headers(), "X-Request-Id");
      assertThat(requestId).matches("[0-9a-f-]{36}");
      List<JsonNode> lines = accessLines(jar.stdout());
      assertThat(lines)
          .filteredOn(n -> n.path("request_id").asText().equals(requestId))
          .filteredOn(n -> n.path("listener").asText().equals("backend"))
          .singleElement()
          .satisfies(
              n -> {
                assertThat(n.path("method").asText()).isEqualTo("POST");
                assertThat(n.path("uri").asText()).isEqualTo("/api/links");
                assertThat(n.path("status").asInt()).isEqualTo(201);
              });
      // and in the lb's, with the backend that served it
      assertThat(lines)
          .filteredOn(n -> n.path("request_id").asText().equals(requestId))
          .filteredOn(n -> n.path("listener").asText().equals("lb-https"))
          .singleElement()
          .satisfies(
              n -> {
                assertThat(n.path("method").asText()).isEqualTo("POST");
                assertThat(n.path("uri").asText()).isEqualTo("/api/links");
                assertThat(n.path("protocol").asText()).isEqualTo("HTTP/2.0");
                assertThat(n.path("status").asInt()).isEqualTo(201);
                assertThat(n.path("backend").asText()).matches("https://127\\.0\\.0\\.1:808[12]");
                assertThat(n.path("attempts").asInt()).isEqualTo(1);
                // the role and node every log line of the process carries
                assertThat(n.path("role").asText()).isEqualTo("all");
                assertThat(n.path("node").asText()).isEqualTo(node(jar.stdout())).isNotEqualTo("-");
                assertThat(n.path("backend_ms").asDouble())
                    .isPositive()
                    .isLessThanOrEqualTo(n.path("duration_ms").asDouble());
              });
      // the relay's HTTP/1.1 request has its line too
      assertThat(lines)
          .filteredOn(n -> n.path("listener").asText().equals("lb-https"))
          .filteredOn(n -> n.path("protocol").asText().equals("HTTP/1.1"))
          .singleElement()
          .satisfies(
              n -> {
                assertThat(n.path("uri").asText()).isEqualTo("/r/" + code);
                assertThat(n.path("status").asInt()).isEqualTo(302);
                assertThat(n.path("user_agent").asText()).startsWith("curl/");
              });
    }
  }

  /** The {@code node} of the {@code lb.ready} event in {@code stdout}. */
  static String node(String stdout) throws Exception {
    List<JsonNode> ready = events(stdout, "lb.ready");
    assertThat(ready).as("lb.ready in %s", stdout).isNotEmpty();
    return ready.get(0).path("node").asText();
  }

  /** The {@code http.access} JSON lines of {@code stdout}. */
  static List<JsonNode> accessLines(String stdout) throws Exception {
    return events(stdout, "http.access");
  }

  /** The JSON lines of {@code stdout} whose {@code event} is {@code name}. */
  static List<JsonNode> events(String stdout, String name) throws Exception {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : stdout.split("\n")) {
      if (line.startsWith("{")) {
        JsonNode n = JSON.readTree(line);
        if (n.path("event").asText().equals(name)) {
          lines.add(n);
        }
      }
    }
    return lines;
  }

  /** The value of header {@code name} in a {@code curl -i} head. */
  static String header(String head, String name) {
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    throw new AssertionError("no " + name + " in " + head);
  }

  @Test
  void countedClicks_surviveAGracefulStop() throws Exception {
    int port = JarProcess.freePort();
    int admin = JarProcess.freePort();
    Path config =
        JarProcess.config(
            dir,
            """
            backend:
              listen: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              apps: {links: {prefix: /, config: {flush-interval: 1h}}}
            """
                .formatted(port, admin));
    String base = "http://127.0.0.1:" + port;
    try (JarProcess jar = JarProcess.start(dir, "--role=backend", "--config=" + config)) {
      jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(30));
      Curl created =
          postJson(
              base + "/api/links", "{\"url\":\"https://example.com/kept\",\"code\":\"kept-1\"}");
      assertThat(created.status()).isEqualTo(201);
      for (int i = 0; i < 5; i++) {
        assertThat(curl(base + "/r/kept-1").status()).isEqualTo(302);
      }
      // nothing flushed yet (1h interval), but the stats add the pending clicks
      assertThat(JSON.readTree(curl(base + "/api/links/kept-1").body()).path("clicks").asLong())
          .isEqualTo(5);
      assertThat(jar.terminate()).isZero();
    }
    try (JarProcess jar = JarProcess.start(dir, "--role=backend", "--config=" + config)) {
      jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(30));
      assertThat(JSON.readTree(curl(base + "/api/links/kept-1").body()).path("clicks").asLong())
          .as("clicks written on the graceful stop")
          .isEqualTo(5);
      Curl taken =
          postJson(
              base + "/api/links", "{\"url\":\"https://example.com/other\",\"code\":\"kept-1\"}");
      assertThat(taken.status()).isEqualTo(409);
      assertThat(JSON.readTree(taken.body()).path("error").asText()).isEqualTo("code_taken");
      assertThat(jar.terminate()).isZero();
    }
  }

  record Curl(int status, String headers, String body) {}

  /** {@code curl -X POST} of {@code json} as {@code application/json}. */
  static Curl postJson(String url, String json) throws Exception {
    return curl("-X", "POST", "-H", "Content-Type: application/json", "--data", json, url);
  }

  /** Runs the curl binary; {@code -i} output split into status, headers and body. */
  static Curl curl(String... args) throws Exception {
    // -k: role all's lb has a self-signed certificate
    List<String> command = new ArrayList<>(List.of("curl", "-s", "-k", "-i", "--max-time", "10"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("curl exit code; output: %s", out).isZero();
    int split = out.indexOf("\r\n\r\n");
    String head = out.substring(0, split);
    int status = Integer.parseInt(head.split(" ", 3)[1]);
    return new Curl(status, head, out.substring(split + 4));
  }
}
