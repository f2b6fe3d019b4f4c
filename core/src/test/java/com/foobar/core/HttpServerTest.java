package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.undertow.server.HttpHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpServerTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private HttpServer server;

  private static final HttpLimits LIMITS =
      new HttpLimits(
          DataSize.parse("1KiB"),
          DataSize.parse("2KiB"),
          10,
          Duration.ofSeconds(1),
          Duration.ofSeconds(5),
          DataSize.parse("1MiB"));

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.stop();
    }
  }

  private int start(AccessRule rule, HttpHandler handler) {
    return start(LIMITS, rule, handler);
  }

  private int start(HttpLimits limits, AccessRule rule, HttpHandler handler) {
    server =
        HttpServer.builder(limits, registry)
            .listener(
                "test", new HostPort("127.0.0.1", 0), rule, Optional.empty(), "static", handler)
            .start();
    return server.address("test").port();
  }

  private static final HttpHandler OK = ex -> ex.getResponseSender().send("ok");

  private static String request(String from, int port, String request) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      s.setSoTimeout(5000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private static String get(String from, int port, String path) throws IOException {
    return request(from, port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }

  @Test
  void peerNotAllowed_gets403_beforeHandlerRuns_andIsCounted() throws IOException {
    CountDownLatch handled = new CountDownLatch(1);
    int port =
        start(
            AccessRule.of(List.of(Cidr.parse("127.0.0.1")), List.of()),
            ex -> {
              handled.countDown();
              ex.getResponseSender().send("secret");
            });
    String refused = get("127.0.0.2", port, "/");
    assertThat(refused).startsWith("HTTP/1.1 403").doesNotContain("secret");
    assertThat(handled.getCount()).isEqualTo(1);
    assertThat(registry.get("foobar.listener.refused").counter().count()).isEqualTo(1.0);
    assertThat(get("127.0.0.1", port, "/")).startsWith("HTTP/1.1 200").endsWith("secret");
  }

  @Test
  void deniedPeer_gets403_evenWhenAllowed() throws IOException {
    int port =
        start(
            AccessRule.of(List.of(Cidr.parse("127.0.0.0/8")), List.of(Cidr.parse("127.0.0.3"))),
            OK);
    assertThat(get("127.0.0.3", port, "/")).startsWith("HTTP/1.1 403");
    assertThat(get("127.0.0.4", port, "/")).startsWith("HTTP/1.1 200");
  }

  @Test
  void emptyAllowList_admitsNobody() throws IOException {
    int port = start(AccessRule.of(List.of(), List.of()), OK);
    assertThat(get("127.0.0.1", port, "/")).startsWith("HTTP/1.1 403");
  }

  @Test
  void uriOverLimit_gets414() throws IOException {
    int port = start(AccessRule.of(List.of(Cidr.parse("0.0.0.0/0")), List.of()), OK);
    assertThat(get("127.0.0.1", port, "/" + "x".repeat(1100))).startsWith("HTTP/1.1 414");
    assertThat(get("127.0.0.1", port, "/" + "x".repeat(900))).startsWith("HTTP/1.1 200");
  }

  @Test
  void headerBytesOverLimit_get431() throws IOException {
    int port = start(AccessRule.of(List.of(Cidr.parse("0.0.0.0/0")), List.of()), OK);
    String big = "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + "a".repeat(2100) + "\r\n\r\n";
    assertThat(request("127.0.0.1", port, big)).startsWith("HTTP/1.1 431");
  }

  @Test
  void headerCountOverLimit_gets431() throws IOException {
    int port = start(AccessRule.of(List.of(Cidr.parse("0.0.0.0/0")), List.of()), OK);
    StringBuilder r = new StringBuilder("GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 11; i++) {
      r.append("X-").append(i).append(": 1\r\n");
    }
    assertThat(request("127.0.0.1", port, r.append("\r\n").toString())).startsWith("HTTP/1.1 431");
  }

  /**
   * A handler that reads the request body to its end and answers how many bytes it got, or {@code
   * cut at N} when reading failed.
   */
  private final HttpHandler countBody =
      new io.undertow.server.handlers.BlockingHandler(this::countBody);

  /** What {@link #countBody} last answered (the client may not get the answer it was sent). */
  private final java.util.concurrent.BlockingQueue<String> counted =
      new java.util.concurrent.LinkedBlockingQueue<>();

  private void countBody(io.undertow.server.HttpServerExchange ex) {
    ex.startBlocking();
    long n = 0;
    String answer;
    try (InputStream in = ex.getInputStream()) {
      byte[] buffer = new byte[8192];
      for (int r = in.read(buffer); r >= 0; r = in.read(buffer)) {
        n += r;
      }
      answer = "got " + n;
    } catch (IOException e) {
      answer = "cut at " + n;
    }
    counted.add(answer);
    ex.getResponseSender().send(answer);
  }

  /** A chunked POST of {@code bytes} in 64 KiB chunks, then reads the answer. */
  private static String chunkedPost(int port, long bytes) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      try {
        ChunkedBodies.send(
            s.getOutputStream(),
            "POST /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
            bytes,
            64 << 10);
      } catch (IOException e) {
        // the server stopped reading: its answer may be there
      }
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      try {
        s.getInputStream().transferTo(answer);
      } catch (IOException e) {
        // reset after the answer
      }
      return answer.toString(StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void chunkedBody_isCheckedAgainstMaxBodySize_notUndertowsDefaultOf10MiB() throws Exception {
    HttpLimits big =
        new HttpLimits(
            LIMITS.maxUriLength(),
            LIMITS.maxHeaderSize(),
            LIMITS.maxHeaders(),
            LIMITS.requestHeaderTimeout(),
            LIMITS.idleTimeout(),
            DataSize.parse("16MiB"));
    int port = start(big, AccessRule.of(List.of(Cidr.parse("127.0.0.1")), List.of()), countBody);
    // over Undertow's 10 MiB: its check, fixed when the request arrived, cut this off
    assertThat(chunkedPost(port, 12L << 20)).endsWith("got " + (12L << 20));
    assertThat(counted.poll()).isEqualTo("got " + (12L << 20));
  }

  @Test
  void chunkedBody_thatItsHandlerDoesNotCount_isCutOffJustOverMaxBodySize() throws Exception {
    int port = start(AccessRule.of(List.of(Cidr.parse("127.0.0.1")), List.of()), countBody);
    chunkedPost(port, 4L << 20);
    String answer = counted.poll(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(answer).startsWith("cut at ");
    long cut = Long.parseLong(answer.substring(answer.indexOf("cut at ") + 7).trim());
    // 1 MiB limit (LIMITS) and the margin; it was 10 MiB
    assertThat(cut)
        .isGreaterThanOrEqualTo(1L << 20)
        .isLessThanOrEqualTo((1L << 20) + HttpServerBuilder.BODY_CHECK_MARGIN);
  }

  @Test
  void requests_timedByRouteMethodStatus() throws Exception {
    int port =
        start(
            AccessRule.of(List.of(Cidr.parse("127.0.0.1")), List.of()),
            ex -> {
              if (ex.getRelativePath().equals("/named")) {
                ex.putAttachment(HttpMetrics.ROUTE, "/named");
              }
              ex.setStatusCode(ex.getRelativePath().equals("/missing") ? 404 : 200);
              ex.endExchange();
            });
    get("127.0.0.1", port, "/a");
    get("127.0.0.1", port, "/b");
    get("127.0.0.1", port, "/missing");
    get("127.0.0.1", port, "/named");
    // the timer is recorded when the exchange completes, which may be just after the client read
    awaitCount("listener", "test", "route", "static", "method", "GET", "status", "200", "2");
    awaitCount("listener", "test", "route", "static", "method", "GET", "status", "404", "1");
    awaitCount("listener", "test", "route", "/named", "method", "GET", "status", "200", "1");
  }

  private void awaitCount(String... tagsAndCount) throws InterruptedException {
    String[] tags = java.util.Arrays.copyOf(tagsAndCount, tagsAndCount.length - 1);
    long want = Long.parseLong(tagsAndCount[tagsAndCount.length - 1]);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    long count = -1;
    while (System.nanoTime() < deadline) {
      var timer = registry.find("http.server.requests").tags(tags).timer();
      count = timer == null ? 0 : timer.count();
      if (count == want) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(10);
    }
    assertThat(count).as(String.join(",", tags)).isEqualTo(want);
  }

  /** Starts a listener answering {@link #OK} whose access log goes to {@code file}; its port. */
  private int startLogging(AccessLogConfig.Format format, Path file) {
    server =
        HttpServer.builder(LIMITS, registry)
            .listener(
                "site",
                new HostPort("127.0.0.1", 0),
                AccessRule.of(List.of(Cidr.parse("127.0.0.1")), List.of()),
                Optional.of(new AccessLogConfig(true, format, Optional.of(file))),
                "static",
                OK)
            .start();
    return server.address("site").port();
  }

  @Test
  void accessLog_combinedFormat_oneLinePerRequest(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("access.log");
    int port = startLogging(AccessLogConfig.Format.COMBINED, file);
    request(
        "127.0.0.1",
        port,
        "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: ua \"q\"\r\nReferer: http://r/\r\n"
            + "Connection: close\r\n\r\n");
    server.stop();
    server = null;
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0))
        .matches(
            "127\\.0\\.0\\.1 - - \\[[^\\]]+\\] \"GET /a\\?b=1 HTTP/1\\.1\" 200 2"
                + " \"http://r/\" \"ua \\\\\"q\\\\\"\"");
  }

  @Test
  void accessLog_jsonLine_carriesRequestId_onlyWhenTheRequestHasOne(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("access.log");
    int port = startLogging(AccessLogConfig.Format.JSON, file);
    request(
        "127.0.0.1",
        port,
        "GET /with HTTP/1.1\r\nHost: x\r\nX-Request-Id: rid-7f3a\r\nConnection: close\r\n\r\n");
    request("127.0.0.1", port, "GET /without HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    server.stop();
    server = null;
    ObjectMapper json = new ObjectMapper();
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(2);
    Map<String, JsonNode> byUri = new HashMap<>();
    for (String line : lines) {
      JsonNode n = json.readTree(line);
      byUri.put(n.path("uri").asText(), n);
    }
    assertThat(byUri.get("/with").path("request_id").asText()).isEqualTo("rid-7f3a");
    JsonNode without = byUri.get("/without");
    assertThat(without.has("request_id")).as("no header, no field").isFalse();
  }

  @Test
  void drain_waitsForInFlightRequest_andRefusesNewOnes() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    int port =
        start(
            AccessRule.of(List.of(Cidr.parse("127.0.0.1")), List.of()),
            ex -> {
              if (ex.isInIoThread()) {
                ex.dispatch(
                    () -> {
                      entered.countDown();
                      try {
                        release.await(10, TimeUnit.SECONDS);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      ex.getResponseSender().send("done");
                    });
              }
            });
    String[] slow = new String[1];
    Thread client =
        new Thread(
            () -> {
              try {
                slow[0] = get("127.0.0.1", port, "/slow");
              } catch (IOException e) {
                slow[0] = e.toString();
              }
            });
    client.start();
    assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
    boolean[] drained = new boolean[1];
    Exception[] failure = new Exception[1];
    Thread drainer =
        new Thread(
            () -> {
              try {
                drained[0] = server.drain(List.of("test"), Duration.ofSeconds(10));
              } catch (InterruptedException | RuntimeException e) {
                failure[0] = e;
              }
            });
    drainer.start();
    drainer.join(300);
    assertThat(failure[0]).isNull();
    assertThat(drainer.isAlive()).as("drain waits for the in-flight request").isTrue();
    release.countDown();
    drainer.join(5000);
    client.join(5000);
    assertThat(drainer.isAlive()).isFalse();
    assertThat(drained[0]).isTrue();
    assertThat(slow[0]).startsWith("HTTP/1.1 200").endsWith("done");
    assertThat(get("127.0.0.1", port, "/late")).startsWith("HTTP/1.1 503");
  }

  @Test
  void aTakenAddress_failsNamingTheListenerAndTheAddress_onBothKindsOfListener() throws Exception {
    AccessRule all = AccessRule.of(List.of(Cidr.parse("127.0.0.0/8")), List.of());
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      HostPort address = new HostPort("127.0.0.1", taken.getLocalPort());
      // a plain listener is bound by Undertow.start()
      assertThatThrownBy(
              () ->
                  HttpServer.builder(LIMITS, registry)
                      .listener(
                          "first",
                          new HostPort("127.0.0.1", 0),
                          all,
                          Optional.empty(),
                          "static",
                          OK)
                      .listener("busy", address, all, Optional.empty(), "static", OK)
                      .start())
          .isInstanceOf(ListenException.class)
          .hasMessage("cannot listen on " + address + " (listener busy): Address already in use");
      // one with a connection guard by Acceptor
      assertThatThrownBy(
              () ->
                  HttpServer.builder(LIMITS, registry)
                      .listener("guarded", address, all, Optional.empty(), "static", OK)
                      .connectionGuard(
                          "guarded", ConnectionGuard.create(10, 10, List.of(), registry, "guarded"))
                      .start())
          .isInstanceOf(ListenException.class)
          .hasMessage(
              "cannot listen on " + address + " (listener guarded): Address already in use");
    }
  }
}
