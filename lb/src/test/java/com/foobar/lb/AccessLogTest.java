package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.foobar.core.AccessLogConfig;
import com.foobar.core.LbConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lb's access log ({@code lb.access-log}): one line per request on each public listener, from
 * whichever engine served it (the HTTP/1.1 relay, an HTTP/2 stream over the relay, Undertow's
 * proxy, the lb's own answers), with the backend that served it, its time to answer and the
 * backends tried.
 */
class AccessLogTest extends LbOverOrigins {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private Path file;

  /** Starts {@code count} origins and the lb over them, logging to a file in {@code format}. */
  private List<RelayTest.Origin> start(
      int count, AccessLogConfig.Format format, Consumer<TestLb> tweak) throws Exception {
    file = dir.resolve("lb-access.log");
    return startLb(
        count,
        config -> {
          config.accessLog = new AccessLogConfig(true, format, Optional.of(file));
          tweak.accept(config);
        });
  }

  private HttpResponse<String> send(HttpClient.Version version, HttpRequest.Builder request)
      throws Exception {
    HttpClient client =
        HttpClient.newBuilder()
            .sslContext(clientTls)
            .version(version)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpResponse<String> r =
        client.send(
            request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.version()).isEqualTo(version);
    return r;
  }

  /** The status of a GET of {@code path} on the HTTPS listener over {@code version}. */
  private int status(HttpClient.Version version, String path) throws Exception {
    return send(version, request(LoadBalancer.HTTPS_LISTENER, path)).statusCode();
  }

  private HttpRequest.Builder request(String listener, String path) {
    return HttpRequest.newBuilder(URI.create(TestLb.url(lb, listener, path)));
  }

  /** The log's lines once it has {@code count} of them (within 10 s). */
  private List<String> lines(int count) throws Exception {
    TestLb.await(
        () -> {
          try {
            return Files.exists(file) && Files.readAllLines(file).size() >= count;
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(count);
    return lines;
  }

  private List<JsonNode> json(int count) throws Exception {
    List<JsonNode> nodes = new ArrayList<>();
    for (String line : lines(count)) {
      nodes.add(JSON.readTree(line));
    }
    return nodes;
  }

  /** What every line of a request a backend answered says. */
  private static void assertProxied(JsonNode n, String backend, int attempts) {
    assertThat(n.path("event").asText()).isEqualTo("http.access");
    assertThat(n.path("remote").asText()).isEqualTo("127.0.0.1");
    assertThat(n.path("backend").asText()).isEqualTo(backend);
    assertThat(n.path("attempts").asInt()).isEqualTo(attempts);
    assertThat(n.path("backend_ms").isNumber()).as("backend_ms in %s", n).isTrue();
    assertThat(n.path("backend_ms").asDouble())
        .isNotNegative()
        .isLessThanOrEqualTo(n.path("duration_ms").asDouble());
    assertThat(n.path("bytes").asLong()).isPositive();
    assertThat(n.path("user_agent").asText()).startsWith("Java-http-client/");
  }

  @Test
  void eachEngine_logsItsRequests_withTheBackendThatServedThem() throws Exception {
    RelayTest.Origin origin = start(1, AccessLogConfig.Format.JSON, c -> {}).get(0);
    // the HTTP/1.1 relay
    HttpResponse<String> h1 =
        send(
            HttpClient.Version.HTTP_1_1,
            request(LoadBalancer.HTTPS_LISTENER, "/one?a=b").header("Referer", "https://x/"));
    // an HTTP/2 stream over the relay
    HttpResponse<String> h2 =
        send(HttpClient.Version.HTTP_2, request(LoadBalancer.HTTPS_LISTENER, "/two"));
    // an HTTP/2 request with a body: Undertow's proxy
    HttpResponse<String> post =
        send(
            HttpClient.Version.HTTP_2,
            request(LoadBalancer.HTTPS_LISTENER, "/three")
                .POST(HttpRequest.BodyPublishers.ofString("body")));
    for (HttpResponse<String> r : List.of(h1, h2, post)) {
      assertThat(r.statusCode()).isEqualTo(200);
    }
    List<JsonNode> lines = json(3);
    JsonNode one = lines.get(0);
    assertProxied(one, origin.url(), 1);
    assertThat(one.path("listener").asText()).isEqualTo(LoadBalancer.HTTPS_LISTENER);
    assertThat(one.path("method").asText()).isEqualTo("GET");
    assertThat(one.path("uri").asText()).isEqualTo("/one?a=b");
    assertThat(one.path("protocol").asText()).isEqualTo("HTTP/1.1");
    assertThat(one.path("status").asInt()).isEqualTo(200);
    assertThat(one.path("referer").asText()).isEqualTo("https://x/");
    assertThat(one.path("request_id").asText())
        .isEqualTo(h1.headers().firstValue("X-Request-Id").orElseThrow());
    // the body's bytes, as nginx and Undertow count them: "ok"
    assertThat(one.path("bytes").asLong()).isEqualTo(2);

    JsonNode two = lines.get(1);
    assertProxied(two, origin.url(), 1);
    assertThat(two.path("uri").asText()).isEqualTo("/two");
    assertThat(two.path("protocol").asText()).isEqualTo("HTTP/2.0");
    assertThat(two.path("bytes").asLong()).isEqualTo(2);
    assertThat(two.path("request_id").asText())
        .isEqualTo(h2.headers().firstValue("X-Request-Id").orElseThrow());

    JsonNode three = lines.get(2);
    assertProxied(three, origin.url(), 1);
    assertThat(three.path("method").asText()).isEqualTo("POST");
    assertThat(three.path("uri").asText()).isEqualTo("/three");
    assertThat(three.path("protocol").asText()).isEqualTo("HTTP/2.0");
    assertThat(three.path("request_id").asText())
        .isEqualTo(post.headers().firstValue("X-Request-Id").orElseThrow());
  }

  @Test
  void aStreamRetriedOnTheOtherBackend_countsBothAttempts() throws Exception {
    List<RelayTest.Origin> two =
        start(2, AccessLogConfig.Format.JSON, c -> c.balance = LbConfig.Balance.ROUND_ROBIN);
    two.get(0).answer = r -> RelayTest.Origin.Answer.closing("");
    for (int i = 0; i < 4; i++) {
      assertThat(status(HttpClient.Version.HTTP_2, "/r" + i)).isEqualTo(200);
    }
    List<JsonNode> lines = json(4);
    for (JsonNode n : lines) {
      assertThat(n.path("status").asInt()).isEqualTo(200);
      assertThat(n.path("backend").asText()).isEqualTo(two.get(1).url());
      assertThat(n.path("attempts").asInt()).isBetween(1, 2);
    }
    // round robin sends at least one of the four to the closing origin first
    assertThat(lines).anySatisfy(n -> assertThat(n.path("attempts").asInt()).isEqualTo(2));
  }

  @Test
  void theLbsOwnAnswers_nameNoBackendThatAnswered() throws Exception {
    List<RelayTest.Origin> both = start(2, AccessLogConfig.Format.JSON, c -> {});
    for (RelayTest.Origin o : both) {
      o.answer = r -> RelayTest.Origin.Answer.closing("");
    }
    // nothing answers: the relay hands the request to Undertow's proxy, which gives up
    HttpResponse<String> failed =
        send(HttpClient.Version.HTTP_1_1, request(LoadBalancer.HTTPS_LISTENER, "/gone"));
    assertThat(failed.statusCode()).isEqualTo(502);
    // a redirect on the plain listener
    HttpResponse<String> moved =
        send(HttpClient.Version.HTTP_1_1, request(LoadBalancer.HTTP_LISTENER, "/moved"));
    assertThat(moved.statusCode()).isEqualTo(308);

    List<JsonNode> lines = json(2);
    JsonNode gone = lines.get(0);
    assertThat(gone.path("status").asInt()).isEqualTo(502);
    assertThat(gone.path("uri").asText()).isEqualTo("/gone");
    assertThat(gone.has("backend_ms")).as("no backend answered: %s", gone).isFalse();
    assertThat(gone.path("backend").asText()).isIn(both.get(0).url(), both.get(1).url());
    assertThat(gone.path("attempts").asInt()).isPositive();

    JsonNode redirect = lines.get(1);
    assertThat(redirect.path("listener").asText()).isEqualTo(LoadBalancer.HTTP_LISTENER);
    assertThat(redirect.path("status").asInt()).isEqualTo(308);
    assertThat(redirect.has("backend")).isFalse();
    assertThat(redirect.has("attempts")).isFalse();
  }

  @Test
  void overTheRateLimit_theRelaysOwn429() throws Exception {
    start(
        1,
        AccessLogConfig.Format.JSON,
        c -> c.rateLimit = new LbConfig.RateLimitConfig(true, 1, 1));
    assertThat(status(HttpClient.Version.HTTP_1_1, "/first")).isEqualTo(200);
    assertThat(status(HttpClient.Version.HTTP_1_1, "/limited")).isEqualTo(429);
    JsonNode tooMany = json(2).get(1);
    assertThat(tooMany.path("listener").asText()).isEqualTo(LoadBalancer.HTTPS_LISTENER);
    assertThat(tooMany.path("status").asInt()).isEqualTo(429);
    assertThat(tooMany.path("uri").asText()).isEqualTo("/limited");
    assertThat(tooMany.has("backend")).isFalse();
    assertThat(tooMany.path("bytes").asLong()).isPositive();
  }

  @Test
  void combinedFormat_asNginxWritesIt() throws Exception {
    start(1, AccessLogConfig.Format.COMBINED, c -> {});
    assertThat(status(HttpClient.Version.HTTP_1_1, "/c?x=1")).isEqualTo(200);
    assertThat(lines(1).get(0))
        .matches(
            "127\\.0\\.0\\.1 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}] \"GET"
                + " /c\\?x=1 HTTP/1\\.1\" 200 \\d+ \"-\" \"Java-http-client/[^\"]+\"");
  }

  @Test
  void noLine_whenTheLogIsOff() throws Exception {
    start(
        1,
        AccessLogConfig.Format.JSON,
        c ->
            c.accessLog =
                new AccessLogConfig(false, AccessLogConfig.Format.JSON, Optional.of(file)));
    assertThat(status(HttpClient.Version.HTTP_1_1, "/quiet")).isEqualTo(200);
    assertThat(status(HttpClient.Version.HTTP_2, "/quiet")).isEqualTo(200);
    Thread.sleep(200);
    assertThat(file).doesNotExist();
  }
}
