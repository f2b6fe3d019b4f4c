package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import com.foobar.core.H2Load;
import com.foobar.core.LbConfig;
import com.foobar.core.LogCapture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 streams over the {@link H1Relay}'s backend connections: the JDK's HTTP/2 client against
 * the lb's HTTPS listener and {@link RelayTest}'s scripted origin, so that the request the origin
 * gets and the response the client gets (framing dropped, fields kept) can each be pinned down, and
 * {@code foobar.lb.relay.streams} shows which streams the relay served rather than Undertow's
 * proxy.
 */
class StreamRelayTest extends LbOverOrigins {
  private HttpClient h2;

  private RelayTest.Origin start() throws Exception {
    return start(1, config -> {}).get(0);
  }

  /** Starts {@code count} origins and the lb over them; waits until each was health-checked. */
  private List<RelayTest.Origin> start(int count, Consumer<TestLb> tweak) throws Exception {
    startLb(
        count,
        config -> {
          config.requestTimeout = Duration.ofMillis(800);
          tweak.accept(config);
        });
    h2 =
        HttpClient.newBuilder()
            .sslContext(clientTls)
            .version(HttpClient.Version.HTTP_2)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    return origins;
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(TestLb.url(lb, LoadBalancer.HTTPS_LISTENER, path)))
        .timeout(Duration.ofSeconds(5));
  }

  private HttpResponse<byte[]> send(HttpRequest request) throws Exception {
    HttpResponse<byte[]> r = h2.send(request, HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
    return r;
  }

  private HttpResponse<byte[]> get(String path) throws Exception {
    return send(request(path).build());
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.ISO_8859_1);
  }

  private double streams() {
    return metrics
        .registry()
        .get("foobar.lb.relay.streams")
        .tag("listener", LoadBalancer.HTTPS_LISTENER)
        .counter()
        .count();
  }

  private int port() {
    return lb.httpsAddress().port();
  }

  @Test
  void get_goesOverOnePooledConnection_withTheForwardedHeaders() throws Exception {
    RelayTest.Origin origin = start();
    int before = origin.connections.get();
    for (int i = 0; i < 3; i++) {
      HttpResponse<byte[]> r =
          send(
              request("/p/" + i + "?q=a%20b&r")
                  .header("X-Forwarded-For", "203.0.113.9")
                  .header("X-Forwarded-Proto", "http")
                  .header("X-Request-Id", "from-the-client")
                  .header("Keep-Alive", "timeout=5")
                  .build());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(text(r)).isEqualTo("ok");
      assertThat(r.headers().firstValue("strict-transport-security")).isPresent();
      String id = r.headers().firstValue("x-request-id").orElseThrow();
      assertThat(id).isNotEqualTo("from-the-client");
      String seen = origin.next();
      assertThat(seen)
          .startsWith("GET /p/" + i + "?q=a%20b&r HTTP/1.1\r\n")
          .contains("\r\nHost: 127.0.0.1:" + port() + "\r\n")
          .contains("\r\nX-Forwarded-For: 203.0.113.9,127.0.0.1\r\n")
          .contains("\r\nX-Forwarded-Proto: https\r\n")
          .contains("\r\nX-Forwarded-Host: 127.0.0.1:" + port() + "\r\n")
          .contains("\r\nX-Forwarded-Server: 127.0.0.1\r\n")
          .contains("\r\nX-Forwarded-Port: " + port() + "\r\n")
          .containsIgnoringCase("\r\nX-Request-Id: " + id + "\r\n")
          .doesNotContain("from-the-client")
          .doesNotContainIgnoringCase("keep-alive")
          .doesNotContain(":path")
          .endsWith("\r\n\r\n");
      assertThat(seen.split("X-Forwarded-Proto", -1)).hasSize(2);
    }
    assertThat(streams()).isEqualTo(3);
    assertThat(origin.connections.get())
        .as("one kept-alive origin connection")
        .isEqualTo(before + 1);
  }

  @Test
  void chunkedResponse_reachesTheClientWithoutItsFraming_andTheConnectionIsReused()
      throws Exception {
    RelayTest.Origin origin = start();
    origin.answer =
        r ->
            RelayTest.Origin.Answer.of(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Origin: yes\r\n\r\n"
                    + "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    int before = origin.connections.get();
    for (int i = 0; i < 2; i++) {
      HttpResponse<byte[]> r = get("/chunked");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(text(r)).isEqualTo("hello world");
      assertThat(r.headers().firstValue("x-origin")).hasValue("yes");
      assertThat(r.headers().firstValue("transfer-encoding")).isEmpty();
    }
    assertThat(streams()).isEqualTo(2);
    assertThat(origin.connections.get()).isEqualTo(before + 1);
  }

  @Test
  void responseWithoutLength_endsWhenTheOriginCloses() throws Exception {
    RelayTest.Origin origin = start();
    origin.answer =
        r ->
            RelayTest.Origin.Answer.closing(
                "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it");
    HttpResponse<byte[]> r = get("/until-close");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(text(r)).isEqualTo("all of it");
    assertThat(r.headers().firstValue("connection")).isEmpty();
    assertThat(streams()).isEqualTo(1);
  }

  @Test
  void head_keepsTheLength_andInterimResponsesAreDropped() throws Exception {
    RelayTest.Origin origin = start();
    origin.answer =
        r ->
            RelayTest.Origin.Answer.of(
                r.startsWith("HEAD")
                    ? "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
                    : "HTTP/1.1 103 Early Hints\r\nLink: </x.css>\r\n\r\n"
                        + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    HttpResponse<byte[]> head =
        send(request("/h").method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("content-length")).hasValue("10");
    assertThat(head.body()).isEmpty();
    HttpResponse<byte[]> created = get("/early");
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(text(created)).isEqualTo("ok");
    assertThat(created.headers().firstValue("link")).isEmpty();
    assertThat(streams()).isEqualTo(2);
  }

  @Test
  void largeBodies_arriveIntact_throughHttp2FlowControl() throws Exception {
    // 12 MiB through TLS and flow control may take longer than the class's 800 ms request timeout
    // on a busy machine (the relay then cuts the streams off)
    RelayTest.Origin origin = start(1, c -> c.requestTimeout = Duration.ofSeconds(20)).get(0);
    byte[] body = new byte[3 << 20];
    new Random(7).nextBytes(body);
    byte[] head =
        ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
    byte[] whole = new byte[head.length + body.length];
    System.arraycopy(head, 0, whole, 0, head.length);
    System.arraycopy(body, 0, whole, head.length, body.length);
    origin.answer = r -> new RelayTest.Origin.Answer(whole, false);
    List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      all.add(h2.sendAsync(request("/big").build(), HttpResponse.BodyHandlers.ofByteArray()));
    }
    byte[] want = MessageDigest.getInstance("SHA-256").digest(body);
    for (CompletableFuture<HttpResponse<byte[]>> f : all) {
      HttpResponse<byte[]> r = f.get(20, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).hasSize(body.length);
      assertThat(MessageDigest.getInstance("SHA-256").digest(r.body())).isEqualTo(want);
    }
    assertThat(streams()).isEqualTo(4);
  }

  @Test
  void manyStreamsAtOnce_shareAFewOriginConnections() throws Exception {
    RelayTest.Origin origin =
        start(
                1,
                c -> {
                  c.pool = new LbConfig.PoolConfig(4, 256, Duration.ofSeconds(5));
                  c.requestTimeout = Duration.ofSeconds(10);
                })
            .get(0);
    AtomicInteger most = new AtomicInteger();
    // slow enough that the streams arrive faster than four connections serve them, even on a busy
    // machine (with 5 ms, a run saw no more than 3 at once)
    origin.answer = RelayTest.Origin.slowOk(40, most);
    int before = origin.connections.get();
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      all.add(h2.sendAsync(request("/n/" + i).build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get(20, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("ok");
    }
    assertThat(streams()).isEqualTo(60);
    assertThat(most.get()).as("requests at the origin at once: pool.max-connections").isEqualTo(4);
    assertThat(origin.connections.get()).isGreaterThan(before);
  }

  @Test
  void manyFieldNames_eachArriveWithItsOwnValue_responseAfterResponse() throws Exception {
    // more names than the loop's cache of names has slots, some differing only in case: each
    // value must still come with its own name
    RelayTest.Origin origin = start();
    StringBuilder head = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
    for (int i = 0; i < 150; i++) {
      head.append("X-Field-").append(i).append(": v").append(i).append("\r\n");
    }
    head.append("x-case: lower\r\nX-CASE: upper\r\n\r\nok");
    origin.answer = r -> RelayTest.Origin.Answer.of(head.toString());
    for (int round = 0; round < 3; round++) {
      HttpResponse<byte[]> r = get("/names/" + round);
      assertThat(r.statusCode()).isEqualTo(200);
      for (int i = 0; i < 150; i++) {
        assertThat(r.headers().allValues("x-field-" + i)).containsExactly("v" + i);
      }
      assertThat(r.headers().allValues("x-case")).containsExactly("lower", "upper");
    }
  }

  @Test
  void h2load_negotiatesH2_andEveryStreamIsRelayedAndDecoded() throws Exception {
    // h2load (nghttp2-client, which scripts/test.sh installs) checks each response's frames and
    // decodes its header block
    start(1, c -> c.requestTimeout = Duration.ofSeconds(10));
    H2Load.assertEveryRequestSucceeds(TestLb.url(lb, LoadBalancer.HTTPS_LISTENER, "/load"), 2000);
    assertThat(streams()).isEqualTo(2000);
  }

  @Test
  void originClosingWithoutAnAnswer_theStreamIsRetriedOnTheOtherBackend() throws Exception {
    List<RelayTest.Origin> two = start(2, c -> {});
    two.get(0).answer = r -> RelayTest.Origin.Answer.closing("");
    two.get(1).answer =
        r -> RelayTest.Origin.Answer.of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
    for (int i = 0; i < 4; i++) {
      HttpResponse<byte[]> r = get("/retry/" + i);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(text(r)).isEqualTo("b");
    }
    assertThat(streams()).isEqualTo(4);
  }

  @Test
  void originNeverAnswering_504_withinTheRequestTimeout() throws Exception {
    RelayTest.Origin origin = start();
    origin.answer =
        r -> {
          try {
            Thread.sleep(3000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return RelayTest.Origin.Answer.closing("");
        };
    long t0 = System.nanoTime();
    HttpResponse<byte[]> r = send(request("/slow").header("Accept", "application/json").build());
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.headers().firstValue("content-type"))
        .hasValueSatisfying(t -> assertThat(t).contains("json"));
    assertThat(text(r)).contains("gateway_timeout");
    assertThat(millis).isBetween(700L, 2500L);
    assertThat(streams()).isEqualTo(1);
  }

  @Test
  void requestWithABody_goesToUndertowsProxy() throws Exception {
    RelayTest.Origin origin = start();
    HttpResponse<byte[]> r =
        send(request("/form").POST(HttpRequest.BodyPublishers.ofString("a=1&b=2")).build());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(origin.next()).startsWith("POST /form HTTP/1.1\r\n").endsWith("\r\n\r\na=1&b=2");
    assertThat(streams()).isZero();
  }

  @Test
  void originCuttingOffTheResponseToABody_theStreamFails_andTheBackendIsFreedAfterTheTimeout()
      throws Exception {
    RelayTest.Origin origin = start();
    origin.answer =
        r -> RelayTest.Origin.Answer.closing("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npart");
    HttpRequest post = request("/upload").POST(HttpRequest.BodyPublishers.ofString("a=1")).build();
    assertThatThrownBy(() -> send(post))
        .as("the client sees its stream fail, not a short body")
        .isInstanceOf(IOException.class);
    assertThat(streams()).as("Undertow's proxy served it").isZero();
    // Undertow resets the stream and never completes the exchange; the request's expiry (the
    // request timeout, 800 ms here, plus a second) frees the backend
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (origin.inFlight(metrics) > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(origin.inFlight(metrics)).as("in flight on the backend").isZero();
    assertThat(origin.errors(metrics)).as("a failure of the backend").isEqualTo(1);
    origin.answer =
        r -> RelayTest.Origin.Answer.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    HttpResponse<byte[]> next = get("/after");
    assertThat(next.statusCode()).isEqualTo(200);
  }

  @Test
  void originClosingWithoutAnAnswerToABody_502_andOneWarnLineWithoutAStackTrace() throws Exception {
    RelayTest.Origin origin = start();
    origin.answer = r -> RelayTest.Origin.Answer.closing("");
    try (LogCapture log = new LogCapture("io.undertow.proxy")) {
      HttpResponse<byte[]> r =
          send(request("/form").POST(HttpRequest.BodyPublishers.ofString("a=1")).build());
      assertThat(r.statusCode()).isEqualTo(502);
      List<ILoggingEvent> events = log.all();
      assertThat(events).hasSize(1);
      assertThat(events.get(0).getLevel()).isEqualTo(Level.WARN);
      assertThat(events.get(0).getThrowableProxy()).isNull();
      assertThat(events.get(0).getFormattedMessage())
          .isEqualTo(
              "UT005028: Proxy request to /form failed: java.io.IOException: UT001000:"
                  + " Connection closed");
    }
  }

  @Test
  void bodyOfUnknownLengthOverTheLimit_413_andTheOriginSeesTheRequestCutOff() throws Exception {
    RelayTest.Origin origin = start(1, c -> c.maxBody = 64 << 10).get(0);
    // over the limit by less than the limit: the lb reads the rest and drops it (past twice the
    // limit it resets the stream, and Undertow then takes the client's next frames for an error)
    byte[] body = new byte[100 << 10];
    HttpResponse<byte[]> r =
        send(
            request("/up")
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(body)))
                .build());
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(text(r)).contains("too large");
    origin.assertCutOffAndFreed(metrics);
  }

  @Test
  void bodyOfUnknownLengthStillComingAtTheRequestTimeout_theOriginSeesTheRequestCutOff()
      throws Exception {
    RelayTest.Origin origin = start();
    // curl sends 8 KiB and keeps its stdin open. Undertow answers 408 and resets the stream
    // (CANCEL), which neither curl nor the JDK's client takes for the end while their body is
    // still open, so the test holds the origin's side: the request cut off at the timeout
    Process curl =
        new ProcessBuilder(
                "curl",
                "-sk",
                "--http2",
                "--max-time",
                "10",
                "-T",
                "-",
                "-o",
                "/dev/null",
                TestLb.url(lb, LoadBalancer.HTTPS_LISTENER, "/up"))
            .start();
    long t0 = System.nanoTime();
    try {
      curl.getOutputStream().write(new byte[8192]);
      curl.getOutputStream().flush();
      TestLb.await(() -> origin.chunkedHeads.get() == 1);
      TestLb.await(() -> origin.cutOff.get() == 1);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(700L, 4000L);
    } finally {
      curl.destroyForcibly();
    }
    origin.assertCutOffAndFreed(metrics);
  }
}
