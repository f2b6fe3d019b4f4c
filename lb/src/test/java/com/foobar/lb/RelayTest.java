package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.ChunkedBodies;
import com.foobar.core.LbConfig;
import com.foobar.core.Metrics;
import com.github.benmanes.caffeine.cache.Ticker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link H1Relay} byte by byte: raw client sockets against the lb's plain listener (proxying,
 * {@code redirect-http: false}) and a scripted origin that answers each request head with what the
 * test says, so that keep-alive, pipelining, chunked and close-delimited bodies, stale pooled
 * connections and the hand-off to Undertow's chain can each be pinned down.
 */
class RelayTest {
  private static com.foobar.core.ServerTls tls;
  private static javax.net.ssl.SSLContext clientTls;
  private final Metrics metrics = Metrics.create("test");
  private LoadBalancer lb;
  private Origin origin;

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
    if (origin != null) {
      origin.close();
    }
    metrics.close();
  }

  /** An origin whose answer to each request (its head and body as text) the test gives. */
  static final class Origin implements AutoCloseable {
    final ServerSocket server;
    final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
    final AtomicInteger connections = new AtomicInteger();

    /** Connections that carried a request other than a health check. */
    final AtomicInteger serving = new AtomicInteger();

    /** Chunked request bodies that ended before their last chunk (never in {@link #requests}). */
    final AtomicInteger cutOff = new AtomicInteger();

    /** Heads of requests with chunked bodies, counted as they arrive. */
    final AtomicInteger chunkedHeads = new AtomicInteger();

    final List<Socket> sockets = new ArrayList<>();
    volatile Function<String, Answer> answer =
        r -> Answer.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

    /**
     * Answers "ok" after {@code millis}, keeping in {@code most} the most requests it answered at
     * once.
     */
    static Function<String, Answer> slowOk(long millis, AtomicInteger most) {
      AtomicInteger answering = new AtomicInteger();
      return r -> {
        most.accumulateAndGet(answering.incrementAndGet(), Math::max);
        try {
          Thread.sleep(millis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          answering.decrementAndGet();
        }
        return Answer.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      };
    }

    /** The bytes to send, and whether to close the connection after them. */
    record Answer(byte[] bytes, boolean close) {
      static Answer of(String s) {
        return new Answer(s.getBytes(StandardCharsets.ISO_8859_1), false);
      }

      static Answer closing(String s) {
        return new Answer(s.getBytes(StandardCharsets.ISO_8859_1), true);
      }
    }

    Origin() throws IOException {
      server = new ServerSocket();
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread t = new Thread(this::accept, "origin");
      t.setDaemon(true);
      t.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          connections.incrementAndGet();
          synchronized (sockets) {
            sockets.add(s);
          }
          Thread t = new Thread(() -> serve(s), "origin-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        boolean served = false;
        while (true) {
          String head = readHead(in);
          if (head == null) {
            return;
          }
          if (!served && !head.startsWith("GET /ready")) {
            served = true;
            serving.incrementAndGet();
          }
          String body = "";
          for (String line : head.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
              int n = Integer.parseInt(line.substring(15).trim());
              body = new String(in.readNBytes(n), StandardCharsets.ISO_8859_1);
            }
          }
          if (head.toLowerCase().contains("\r\ntransfer-encoding: chunked\r\n")) {
            chunkedHeads.incrementAndGet();
            byte[] whole = dechunk(in);
            if (whole == null) {
              cutOff.incrementAndGet();
              return;
            }
            body = new String(whole, StandardCharsets.ISO_8859_1);
          }
          String request = head + body;
          requests.add(request);
          if (head.startsWith("GET /ready")) {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes());
            out.flush();
            continue;
          }
          Answer a = answer.apply(request);
          out.write(a.bytes());
          out.flush();
          if (a.close()) {
            return;
          }
        }
      } catch (IOException e) {
        // the peer went away
      }
    }

    /** A chunked body up to its last chunk and trailer; null when the connection ends first. */
    private static byte[] dechunk(InputStream in) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      try {
        while (true) {
          String line = line(in);
          if (line == null) {
            return null;
          }
          int size = Integer.parseInt(line.split(";")[0].trim(), 16);
          if (size == 0) {
            for (String t = line(in); t != null; t = line(in)) {
              if (t.isEmpty()) {
                return body.toByteArray();
              }
            }
            return null;
          }
          byte[] data = in.readNBytes(size);
          body.write(data);
          if (data.length < size || in.readNBytes(2).length < 2) {
            return null;
          }
        }
      } catch (IOException e) {
        return null;
      }
    }

    /** A line without its CRLF; null at the end of the stream. */
    private static String line(InputStream in) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      for (int c = in.read(); c >= 0; c = in.read()) {
        if (c == '\n') {
          String s = b.toString(StandardCharsets.ISO_8859_1);
          return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }
        b.write(c);
      }
      return null;
    }

    /** {@code foobar.lb.backend.in.flight} of this origin as a backend, in {@code metrics}. */
    double inFlight(Metrics metrics) {
      return metrics
          .registry()
          .get("foobar.lb.backend.in.flight")
          .tag("backend", url())
          .gauge()
          .value();
    }

    /** {@code foobar.lb.backend.errors} of this origin as a backend, in {@code metrics}. */
    double errors(Metrics metrics) {
      return metrics
          .registry()
          .get("foobar.lb.backend.errors")
          .tag("backend", url())
          .counter()
          .count();
    }

    /**
     * Asserts that one chunked POST reached this origin cut off, never whole, and that the lb freed
     * its slot without holding it against the backend.
     */
    void assertCutOffAndFreed(Metrics metrics) throws InterruptedException {
      TestLb.await(() -> cutOff.get() == 1);
      assertThat(requests).noneMatch(r -> r.startsWith("POST"));
      TestLb.await(() -> inFlight(metrics) == 0);
      assertThat(errors(metrics)).isZero();
    }

    /** The next request that is not a health check. */
    String next() throws InterruptedException {
      while (true) {
        String r = requests.poll(5, TimeUnit.SECONDS);
        assertThat(r).as("a request reached the origin").isNotNull();
        if (!r.startsWith("GET /ready")) {
          return r;
        }
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      synchronized (sockets) {
        for (Socket s : sockets) {
          s.close();
        }
      }
    }
  }

  static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int c = in.read();
      if (c < 0) {
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
      }
      b.write(c);
      state =
          (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
              ? state + 1
              : (c == '\r' ? 1 : 0);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /** A response read off a client socket. */
  record Response(String head, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.ISO_8859_1);
    }

    String header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }

  /** Reads one response to a request of {@code method}: by length, chunks, or until close. */
  static Response read(InputStream in, String method) throws IOException {
    String head = readHead(in);
    assertThat(head).as("a response head").isNotNull();
    Response r = new Response(head, new byte[0]);
    int status = Integer.parseInt(head.substring(9, 12));
    if (method.equals("HEAD") || status == 204 || status == 304) {
      return r;
    }
    String length = r.header("Content-Length");
    if (length != null) {
      return new Response(head, in.readNBytes(Integer.parseInt(length)));
    }
    if ("chunked".equalsIgnoreCase(r.header("Transfer-Encoding"))) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String size = line(in);
        int n = Integer.parseInt(size.split(";")[0].trim(), 16);
        if (n == 0) {
          while (!line(in).isEmpty()) {
            // trailers
          }
          return new Response(head, body.toByteArray());
        }
        body.write(in.readNBytes(n));
        line(in);
      }
    }
    return new Response(head, in.readAllBytes());
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder s = new StringBuilder();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("end of stream in a chunked body");
      }
      if (c != '\r') {
        s.append((char) c);
      }
    }
    return s.toString();
  }

  private void start() throws Exception {
    start(config -> {});
  }

  private void start(java.util.function.Consumer<TestLb> tweak) throws Exception {
    origin = new Origin();
    TestLb config = new TestLb().backend(origin.url(), 1);
    config.redirectHttp = false;
    config.requestTimeout = Duration.ofMillis(800);
    tweak.accept(config);
    lb = LoadBalancer.start(config.build(), metrics, tls, Optional.empty(), Ticker.systemTicker());
    // the health checks reach the origin first
    assertThat(origin.requests.poll(5, TimeUnit.SECONDS)).startsWith("GET /ready");
  }

  private Socket client() throws IOException {
    return client("127.0.0.1");
  }

  private Socket client(String from) throws IOException {
    int port =
        lb.listeners().stream()
            .filter(l -> l.name().equals(LoadBalancer.HTTP_LISTENER))
            .findFirst()
            .orElseThrow()
            .address()
            .port();
    Socket s = new Socket();
    s.bind(new InetSocketAddress(from, 0));
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(5000);
    return s;
  }

  /** An HTTP/1.1 connection over TLS to the HTTPS listener, whose relay is the other one. */
  private Socket tlsClient() throws Exception {
    javax.net.ssl.SSLSocket s =
        (javax.net.ssl.SSLSocket)
            clientTls.getSocketFactory().createSocket("127.0.0.1", lb.httpsAddress().port());
    s.setSoTimeout(5000);
    s.startHandshake();
    return s;
  }

  private double handoffs() {
    return metrics
        .registry()
        .get("foobar.lb.relay.handoffs")
        .tag("listener", LoadBalancer.HTTP_LISTENER)
        .counter()
        .count();
  }

  private static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
    s.getOutputStream().flush();
  }

  @Test
  void keepAlive_reusesOneOriginConnection_andSetsForwardedHeaders() throws Exception {
    start();
    int before = origin.connections.get();
    try (Socket s = client()) {
      for (int i = 0; i < 3; i++) {
        send(
            s,
            "GET /p/"
                + i
                + "?q=1 HTTP/1.1\r\nHost: example.test:8080\r\nConnection: keep-alive\r\n"
                + "Keep-Alive: timeout=5\r\nTE: trailers\r\nX-Forwarded-For: 203.0.113.9\r\n"
                + "X-Request-Id: spoofed\r\nX-Forwarded-Proto: https\r\n\r\n");
        Response r = read(s.getInputStream(), "GET");
        assertThat(r.head()).startsWith("HTTP/1.1 200 ");
        assertThat(r.text()).isEqualTo("ok");
        String request = origin.next();
        assertThat(request).startsWith("GET /p/" + i + "?q=1 HTTP/1.1\r\n");
        assertThat(request.toLowerCase())
            .contains("x-forwarded-for: 203.0.113.9,127.0.0.1\r\n")
            .contains("x-forwarded-proto: http\r\n")
            .contains("x-forwarded-host: example.test:8080\r\n")
            .contains("x-forwarded-port: 8080\r\n")
            .contains("x-forwarded-server: example.test\r\n")
            .doesNotContain("keep-alive")
            .doesNotContain("te: trailers")
            .doesNotContain("spoofed")
            .doesNotContain("x-forwarded-proto: https");
        String id = new Response(request, new byte[0]).header("X-Request-Id");
        assertThat(id).hasSize(36);
        assertThat(r.header("X-Request-Id")).isEqualTo(id);
      }
    }
    assertThat(origin.connections.get() - before).isLessThanOrEqualTo(1);
    assertThat(handoffs()).isZero();
  }

  @Test
  void pipelinedRequests_answeredInOrder() throws Exception {
    start();
    origin.answer =
        r -> {
          String path = r.split(" ")[1];
          return Origin.Answer.of(
              "HTTP/1.1 200 OK\r\nContent-Length: "
                  + path.length()
                  + "\r\n\r\n"
                  + (r.startsWith("HEAD") ? "" : path));
        };
    try (Socket s = client()) {
      send(
          s,
          "GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n"
              + "HEAD /three HTTP/1.1\r\nHost: a\r\n\r\nGET /four HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("/one");
      assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("/two");
      Response head = read(s.getInputStream(), "HEAD");
      assertThat(head.header("Content-Length")).isEqualTo("6");
      assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("/four");
    }
    assertThat(handoffs()).isZero();
  }

  @Test
  void chunkedResponse_passesThroughWhole_andTheConnectionGoesOn() throws Exception {
    start();
    origin.answer =
        r ->
            Origin.Answer.of(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;ext=1\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    try (Socket s = client()) {
      for (int i = 0; i < 2; i++) {
        send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Response r = read(s.getInputStream(), "GET");
        assertThat(r.text()).isEqualTo("hello, world");
      }
    }
    assertThat(handoffs()).isZero();
  }

  @Test
  void responseWithoutLength_endsWithTheConnection() throws Exception {
    start();
    origin.answer = r -> Origin.Answer.closing("HTTP/1.1 200 OK\r\n\r\nuntil close");
    try (Socket s = client()) {
      send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      Response r = read(s.getInputStream(), "GET");
      assertThat(r.header("Connection")).isEqualTo("close");
      assertThat(r.text()).isEqualTo("until close");
    }
  }

  @Test
  void noBodyStatuses_andBackendClose_keepTheClientConnection() throws Exception {
    start();
    AtomicInteger n = new AtomicInteger();
    origin.answer =
        r ->
            switch (n.getAndIncrement()) {
              case 0 -> Origin.Answer.of("HTTP/1.1 204 No Content\r\n\r\n");
              case 1 -> Origin.Answer.of("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
              case 2 ->
                  Origin.Answer.closing(
                      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye");
              default -> Origin.Answer.of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter");
            };
    try (Socket s = client()) {
      send(s, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").head()).startsWith("HTTP/1.1 204");
      send(s, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").head()).startsWith("HTTP/1.1 304");
      send(s, "GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
      Response bye = read(s.getInputStream(), "GET");
      assertThat(bye.text()).isEqualTo("bye");
      assertThat(bye.header("Connection")).isNull();
      send(s, "GET /d HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("after");
    }
    assertThat(handoffs()).isZero();
  }

  @Test
  void postBody_reachesTheOrigin() throws Exception {
    start();
    try (Socket s = client()) {
      send(
          s,
          "POST /api HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
              + "Content-Length: 11\r\n\r\nhello world");
      assertThat(read(s.getInputStream(), "POST").text()).isEqualTo("ok");
      assertThat(origin.next())
          .startsWith("POST /api HTTP/1.1\r\n")
          .endsWith("\r\n\r\nhello world");
    }
    assertThat(handoffs()).isZero();
  }

  @Test
  void originClosedAnIdleConnection_theNextRequestStillSucceeds() throws Exception {
    start();
    origin.answer = r -> Origin.Answer.closing("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    try (Socket s = client()) {
      for (int i = 0; i < 3; i++) {
        send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("ok");
        TimeUnit.MILLISECONDS.sleep(50);
      }
    }
    assertThat(handoffs()).isZero();
  }

  @Test
  void largeBody_toASlowReader_arrivesIntact() throws Exception {
    // longer than the class's 800 ms request timeout, which a busy machine could need here
    start(c -> c.requestTimeout = Duration.ofSeconds(20));
    byte[] big = new byte[3 * 1024 * 1024];
    new java.util.Random(7).nextBytes(big);
    byte[] head =
        ("HTTP/1.1 200 OK\r\nContent-Length: " + big.length + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[head.length + big.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(big, 0, all, head.length, big.length);
    origin.answer = r -> new Origin.Answer(all, false);
    try (Socket s = client()) {
      send(s, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
      TimeUnit.MILLISECONDS.sleep(300);
      Response r = read(s.getInputStream(), "GET");
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      assertThat(HexFormat.of().formatHex(sha.digest(r.body())))
          .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(big)));
      origin.answer = x -> Origin.Answer.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("ok");
    }
  }

  @Test
  void headInTwoPieces_goesToTheFullChain_andIsServed() throws Exception {
    start();
    try (Socket s = client()) {
      send(s, "GET /slow HTTP/1.1\r\nHo");
      TimeUnit.MILLISECONDS.sleep(200);
      send(s, "st: a\r\n\r\n");
      Response r = read(s.getInputStream(), "GET");
      assertThat(r.text()).isEqualTo("ok");
      assertThat(origin.next()).startsWith("GET /slow HTTP/1.1\r\n");
    }
    assertThat(handoffs()).isEqualTo(1);
  }

  @Test
  void rateLimit_429WithRetryAfter_perClient_onTheSameConnection() throws Exception {
    start(config -> config.rateLimit = new com.foobar.core.LbConfig.RateLimitConfig(true, 1, 2));
    try (Socket s = client("127.0.0.2")) {
      for (int i = 0; i < 2; i++) {
        send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(read(s.getInputStream(), "GET").head()).startsWith("HTTP/1.1 200");
      }
      send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      Response limited = read(s.getInputStream(), "GET");
      assertThat(limited.head()).startsWith("HTTP/1.1 429");
      assertThat(limited.header("Retry-After")).isEqualTo("1");
      assertThat(limited.text()).contains("too many requests");
      try (Socket other = client("127.0.0.3")) {
        send(other, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(read(other.getInputStream(), "GET").head()).startsWith("HTTP/1.1 200");
      }
      TimeUnit.MILLISECONDS.sleep(1100);
      send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").head()).startsWith("HTTP/1.1 200");
    }
    assertThat(handoffs()).isZero();
    assertThat(
            metrics
                .registry()
                .get("foobar.ratelimit.rejected")
                .tag("listener", LoadBalancer.HTTP_LISTENER)
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void rateLimit_aRequestHandedToTheFullChain_takesOneToken() throws Exception {
    start(config -> config.rateLimit = new com.foobar.core.LbConfig.RateLimitConfig(true, 1, 2));
    AtomicBoolean first = new AtomicBoolean(true);
    origin.answer =
        r ->
            r.startsWith("GET /fails") && first.getAndSet(false)
                ? Origin.Answer.closing("")
                : Origin.Answer.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    try (Socket s = client("127.0.0.2")) {
      // the origin closes without an answer: the relay hands the request to Undertow's proxy,
      // which sends it again
      send(s, "GET /fails HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").head()).startsWith("HTTP/1.1 200");
    }
    assertThat(handoffs()).isEqualTo(1);
    try (Socket s = client("127.0.0.2")) {
      // the second request of the burst (a token each, not one more for the handed request)
      send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").head()).startsWith("HTTP/1.1 200");
    }
  }

  @Test
  void idleKeepAliveConnection_closedAfterTheIdleTimeout() throws Exception {
    start(config -> config.idleTimeout = Duration.ofMillis(600));
    try (Socket s = client()) {
      send(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("ok");
      long t0 = System.nanoTime();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(300L, 3000L);
    }
    assertThat(handoffs()).isZero();
  }

  @Test
  void tooManyHeaders_431_andBodyOverTheLimit_413_fromTheFullChain() throws Exception {
    start(config -> config.maxHeaders = 4);
    try (Socket s = client()) {
      send(s, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").head()).startsWith("HTTP/1.1 431");
    }
    try (Socket s = client()) {
      send(s, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 20000000\r\n\r\n");
      assertThat(read(s.getInputStream(), "POST").head()).startsWith("HTTP/1.1 413");
    }
    assertThat(handoffs()).isEqualTo(2);
  }

  /** Sends a chunked POST of {@code bytes} in 8 KiB chunks, its last chunk too. */
  private static void sendChunked(Socket s, long bytes) throws IOException {
    ChunkedBodies.send(
        s.getOutputStream(),
        "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        bytes,
        8192);
  }

  @Test
  void chunkedBodyOverTheLimit_413_afterItIsRead_andTheOriginNeverGetsTheRequestWhole()
      throws Exception {
    start(c -> c.maxBody = 64 << 10);
    try (Socket s = client()) {
      // over the limit by less than the limit: the lb reads the rest and drops it
      sendChunked(s, 96 << 10);
      Response r = read(s.getInputStream(), "POST");
      assertThat(r.head()).startsWith("HTTP/1.1 413");
      assertThat(r.head().toLowerCase()).contains("connection: close");
      assertThat(new String(r.body(), StandardCharsets.ISO_8859_1)).contains("too large");
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    // the origin got the first part of the body, then the connection ended
    TestLb.await(() -> origin.cutOff.get() == 1);
    assertThat(origin.requests).noneMatch(r -> r.startsWith("POST"));
    assertThat(origin.errors(metrics)).isZero();
    assertThat(origin.inFlight(metrics)).isZero();
    try (Socket s = client()) {
      send(s, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("ok");
    }
  }

  @Test
  void chunkedBodyFarOverTheLimit_isCutOff_andTheOriginNeverGetsTheRequestWhole() throws Exception {
    start(c -> c.maxBody = 64 << 10);
    try (Socket s = client()) {
      try {
        sendChunked(s, 4 << 20);
      } catch (IOException e) {
        // the lb stopped reading: past twice the limit it closes the connection
      }
    }
    origin.assertCutOffAndFreed(metrics);
  }

  @Test
  void clientLeavingMidChunkedBody_theOriginSeesTheRequestCutOff_neverShorterButComplete()
      throws Exception {
    start();
    try (Socket s = client()) {
      send(
          s,
          "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n"
              + "x".repeat(8192)
              + "\r\n");
      TestLb.await(() -> origin.chunkedHeads.get() == 1);
    }
    // Undertow's proxy closed the backend connection cleanly, with the last chunk: the origin got
    // a complete POST of 8 KiB
    origin.assertCutOffAndFreed(metrics);
  }

  @Test
  void chunkedBodyStillComingAtTheRequestTimeout_408_andTheOriginSeesItCutOff() throws Exception {
    start();
    try (Socket s = client()) {
      long t0 = System.nanoTime();
      send(
          s,
          "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n"
              + "x".repeat(8192)
              + "\r\n");
      Response r = read(s.getInputStream(), "POST");
      assertThat(r.head()).startsWith("HTTP/1.1 408");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(700L, 3000L);
    }
    origin.assertCutOffAndFreed(metrics);
  }

  @Test
  void chunkedBodyOverUndertowsDefault10MiB_underMaxBodySize_reachesTheOriginWhole()
      throws Exception {
    start(
        c -> {
          c.maxBody = 40 << 20;
          c.requestTimeout = Duration.ofSeconds(20);
        });
    try (Socket s = client()) {
      s.setSoTimeout(20_000);
      sendChunked(s, 12 << 20);
      assertThat(read(s.getInputStream(), "POST").text()).isEqualTo("ok");
    }
    String seen = origin.next();
    assertThat(seen).startsWith("POST /up HTTP/1.1\r\n");
    assertThat(seen.length() - seen.indexOf("\r\n\r\n") - 4).isEqualTo(12 << 20);
  }

  @Test
  void longHostHeader_thatTheAddedHeadersWouldNotFit_isStillServed() throws Exception {
    start();
    String host = "h".repeat(12_000) + ".test";
    try (Socket s = client()) {
      send(s, "GET /long HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      assertThat(read(s.getInputStream(), "GET").text()).isEqualTo("ok");
      assertThat(origin.next()).contains("X-Forwarded-Host: " + host);
    }
  }

  @Test
  void originNeverAnswers_504_withinTheRequestTimeout() throws Exception {
    start();
    origin.answer = r -> Origin.Answer.of("");
    try (Socket s = client()) {
      long t0 = System.nanoTime();
      send(s, "GET /hang HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n");
      Response r = read(s.getInputStream(), "GET");
      assertThat(r.head()).startsWith("HTTP/1.1 504");
      assertThat(r.text()).contains("gateway_timeout");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(700L, 3000L);
      try {
        assertThat(s.getInputStream().read()).isEqualTo(-1);
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the connection stays open after a 504", e);
      }
    }
  }

  @Test
  void poolCap_holdsOverAllIoThreadsAndBothListeners_andWaitingRequestsAreServed()
      throws Exception {
    start(
        c -> {
          c.pool = new LbConfig.PoolConfig(1, 64, Duration.ofSeconds(5));
          c.requestTimeout = Duration.ofSeconds(10);
        });
    AtomicInteger most = new AtomicInteger();
    origin.answer = Origin.slowOk(30, most);
    // connections spread over the IO threads and both listeners' relays; one backend connection
    // serves them all in turn, moving between threads when a request waits on another (not after
    // the 5 s queue timeout)
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        sockets.add(client());
        sockets.add(tlsClient());
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < sockets.size(); i++) {
        send(sockets.get(i), "GET /w/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
      }
      for (Socket s : sockets) {
        Response r = read(s.getInputStream(), "GET");
        assertThat(r.head()).startsWith("HTTP/1.1 200");
        assertThat(r.text()).isEqualTo("ok");
      }
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000L);
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
    assertThat(most.get()).as("requests at the origin at once, over both listeners").isEqualTo(1);
  }

  @Test
  void connectionsLeftIdleByOneListener_serveTheOther() throws Exception {
    start();
    // each client connection lands on an IO thread of XNIO's choice; once each thread holds an idle
    // backend connection, requests on either listener need no new one
    for (int i = 0; i < 10; i++) {
      try (Socket s = i % 2 == 0 ? client() : tlsClient()) {
        send(s, "GET /idle/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(read(s.getInputStream(), "GET").head()).startsWith("HTTP/1.1 200");
      }
    }
    assertThat(origin.serving.get())
        .as("origin connections that served requests, at most one per IO thread")
        .isBetween(1, Runtime.getRuntime().availableProcessors());
  }
}
