package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.foobar.core.LogCapture;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code backend.upstream} against real servers: python3's http.server and a JDK echo server. */
class UpstreamProxyTest {
  @TempDir Path dir;
  private HttpServer echo;
  private Process python;
  private int pythonPort;
  private final CountDownLatch release = new CountDownLatch(1);

  /** What the echo server's {@code /upload} saw of each body: "complete N" or "cut off". */
  private final BlockingQueue<String> uploads = new LinkedBlockingQueue<>();

  @BeforeEach
  void upstreams() throws Exception {
    echo = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    echo.setExecutor(Executors.newCachedThreadPool());
    echo.createContext(
        "/",
        ex -> {
          StringBuilder b = new StringBuilder();
          b.append("uri=").append(ex.getRequestURI()).append('\n');
          for (String h :
              List.of("Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host")) {
            b.append(h).append('=').append(ex.getRequestHeaders().getFirst(h)).append('\n');
          }
          byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    echo.createContext(
        "/slow",
        ex -> {
          try {
            // holds the answer until the test is over: the proxy must give up first
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    echo.createContext(
        "/upload",
        ex -> {
          uploads.add("started");
          try {
            // the JDK's chunked reader fails on a body that ends before its last chunk
            int n = ex.getRequestBody().readAllBytes().length;
            uploads.add("complete " + n);
            ex.sendResponseHeaders(200, -1);
          } catch (IOException e) {
            uploads.add("cut off");
          }
          ex.close();
        });
    echo.start();

    Path files = Files.createDirectories(dir.resolve("py"));
    Files.writeString(files.resolve("hello.txt"), "hello from python");
    try (ServerSocket s = new ServerSocket(0)) {
      pythonPort = s.getLocalPort();
    }
    python =
        new ProcessBuilder(
                "python3", "-m", "http.server", "--bind", "127.0.0.1", Integer.toString(pythonPort))
            .directory(files.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("python.log").toFile())
            .start();
  }

  @AfterEach
  void stopUpstreams() throws Exception {
    release.countDown();
    echo.stop(0);
    python.destroy();
    python.waitFor(5, TimeUnit.SECONDS);
  }

  private BackendServer backend(int deadPort) throws IOException {
    int echoPort = echo.getAddress().getPort();
    return BackendServer.start(
        dir,
        "  limits: {max-body-size: 1KiB}\n"
            + "  apps: {links: ~}\n"
            + "  upstream:\n"
            + "    connect-timeout: 1s\n"
            + "    timeout: 500ms\n"
            + "    routes:\n"
            + "      - {prefix: /echo/, url: \"http://127.0.0.1:"
            + echoPort
            + "/\"}\n"
            + "      - {prefix: /keep/, url: \"http://127.0.0.1:"
            + echoPort
            + "\"}\n"
            + "      - {prefix: /slow, url: \"http://127.0.0.1:"
            + echoPort
            + "\"}\n"
            + "      - {prefix: /files/, url: \"http://127.0.0.1:"
            + pythonPort
            + "/\"}\n"
            + "      - {prefix: /down/, url: \"http://127.0.0.1:"
            + deadPort
            + "/\"}\n");
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** python3 takes a moment to listen: bounded polling, not a sleep. */
  private static HttpResponse<String> untilNot502(BackendServer server, String path) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    HttpResponse<String> r = server.get(path);
    while (r.statusCode() == 502 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      r = server.get(path);
    }
    return r;
  }

  @Test
  void pythonHttpServer_isReached_withPrefixReplaced() throws Exception {
    try (BackendServer server = backend(closedPort())) {
      HttpResponse<String> r = untilNot502(server, "/files/hello.txt");

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello from python");
    }
  }

  @Test
  void urlWithPath_replacesPrefix_urlWithoutPath_keepsUri() throws Exception {
    try (BackendServer server = backend(closedPort())) {
      assertThat(server.get("/echo/a/b?x=1").body()).startsWith("uri=/a/b?x=1\n");
      assertThat(server.get("/keep/c?y=2").body()).startsWith("uri=/keep/c?y=2\n");
      assertThat(server.get("/echo").statusCode()).isEqualTo(301);
      assertThat(server.get("/").body()).isEqualTo("static index");
    }
  }

  @Test
  void forwardedHeaders_reachTheUpstream() throws Exception {
    try (BackendServer server = backend(closedPort())) {
      String body = server.get("/echo/h").body();

      int echoPort = echo.getAddress().getPort();
      assertThat(body)
          .contains("X-Forwarded-For=127.0.0.1\n")
          .contains("X-Forwarded-Proto=http\n")
          .contains("X-Forwarded-Host=127.0.0.1:" + server.port() + "\n")
          .contains("Host=127.0.0.1:" + echoPort + "\n");
    }
  }

  @Test
  void upstreamDown_is502_withWarnEvent() throws Exception {
    try (BackendServer server = backend(closedPort());
        LogCapture logs = new LogCapture(UpstreamClient.class)) {
      HttpResponse<String> r = server.get("/down/x");

      assertThat(r.statusCode()).isEqualTo(502);
      assertThat(r.body()).contains("bad_gateway");
      List<ILoggingEvent> events = logs.events("upstream.error");
      assertThat(events).isNotEmpty();
      assertThat(LogCapture.value(events.get(0), "prefix")).hasValue("/down/");
      assertThat(server.get("/down/y").statusCode()).isEqualTo(502);
    }
  }

  @Test
  void slowUpstream_is504_afterTheTimeout() throws Exception {
    try (BackendServer server = backend(closedPort())) {
      long start = System.nanoTime();
      HttpResponse<String> r = server.get("/slow");
      long millis = (System.nanoTime() - start) / 1_000_000;

      assertThat(r.statusCode()).isEqualTo(504);
      assertThat(millis).isBetween(400L, 5_000L);
    }
  }

  @Test
  void chunkedBodyBreakingOff_isCutOffAtTheUpstream_neverSentShorterButComplete() throws Exception {
    try (BackendServer server = backend(closedPort())) {
      try (Socket client = new Socket("127.0.0.1", server.port())) {
        client
            .getOutputStream()
            .write(
                ("POST /echo/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "200\r\n"
                        + "x".repeat(512)
                        + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
        client.getOutputStream().flush();
        assertThat(uploads.poll(5, TimeUnit.SECONDS)).isEqualTo("started");
      }
      // the client left mid-body: Undertow's proxy sent the last chunk (a complete 512-byte POST)
      assertThat(uploads.poll(5, TimeUnit.SECONDS)).isEqualTo("cut off");
      // and a whole one still goes through
      String whole =
          server.raw(
              "POST /echo/upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  + "Transfer-Encoding: chunked",
              "200\r\n%s\r\n0\r\n\r\n"
                  .formatted("y".repeat(512))
                  .getBytes(StandardCharsets.ISO_8859_1));
      assertThat(whole).startsWith("HTTP/1.1 200");
      assertThat(uploads.poll(5, TimeUnit.SECONDS)).isEqualTo("started");
      assertThat(uploads.poll(5, TimeUnit.SECONDS)).isEqualTo("complete 512");
    }
  }

  @Test
  void chunkedBodyOverLimit_is413_andCutOffAtTheUpstream() throws Exception {
    try (BackendServer server = backend(closedPort());
        Socket client = new Socket("127.0.0.1", server.port())) {
      client.setSoTimeout(10_000);
      var out = client.getOutputStream();
      out.write(
          ("POST /echo/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + "200\r\n"
                  + "x".repeat(512)
                  + "\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertThat(uploads.poll(5, TimeUnit.SECONDS)).isEqualTo("started");
      // 1.5 KiB in all against the 1 KiB limit: read to its end, so the client gets the answer
      out.write(
          ("400\r\n" + "x".repeat(1024) + "\r\n0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String response =
          new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(response).startsWith("HTTP/1.1 413").contains("payload_too_large");
      assertThat(uploads.poll(5, TimeUnit.SECONDS)).isEqualTo("cut off");
    }
  }

  @Test
  void declaredBodyOverLimit_is413_withoutReachingTheUpstream() throws Exception {
    try (BackendServer server = backend(closedPort())) {
      String response =
          server.raw("POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4096", new byte[0]);

      assertThat(response).startsWith("HTTP/1.1 413").contains("payload_too_large");
      assertThat(server.send("POST", "/echo/small", "{}").statusCode()).isEqualTo(200);
    }
  }
}
