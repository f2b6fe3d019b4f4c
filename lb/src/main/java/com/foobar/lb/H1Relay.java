package com.foobar.lb;

import com.foobar.core.Cidr;
import com.foobar.core.ForwardingOpenListener;
import com.foobar.core.ListenerTap;
import com.foobar.core.RateLimitHandler;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.UndertowOptions;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.DelegateOpenListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;

/**
 * The lb's HTTP/1.1 relay: serves the common request (a well-formed HTTP/1.1 request whose head
 * arrived whole, with no body or a small one of known length, from a peer that is not a trusted
 * proxy, to a plain-HTTP backend) by copying its head to a pooled backend connection with the
 * {@code X-Forwarded-*} and {@code X-Request-Id} headers the lb adds, and the backend's response
 * back with {@code Strict-Transport-Security} and {@code X-Request-Id}, with no per-request objects
 * beyond two small byte arrays: the bytes pass through, they are not parsed into maps and written
 * out again as Undertow's {@code ProxyHandler} does.
 *
 * <p>Everything else goes to Undertow's HTTP/1.1 handling of the listener, with the bytes already
 * read, for the rest of the connection: an incomplete head (a slow client: Undertow's header
 * timeout applies), anything Undertow's chain would refuse (limits, allow/deny, HTTP/1.0,
 * absolute-form targets, {@code Transfer-Encoding} or {@code Expect} or {@code Upgrade}, bodies
 * over the limit), a draining listener, and a request no backend is available for or whose backend
 * failed before answering (Undertow's proxy then retries it on another backend within the budget,
 * or answers 502/503). A non-idempotent request whose backend failed after it was sent gets 502, as
 * from Undertow.
 *
 * <p>All work for a connection happens on its IO thread; each IO thread has its own scratch buffers
 * and its own idle backend connections ({@link RelayLoop}). Backend connections are kept alive and
 * reused; a reused one that turns out closed is replaced once by a new one, without counting
 * against the backend. The relays of the lb's two listeners share one {@link RelayPool}: its idle
 * connections and its cap per backend.
 *
 * <p>Its parts: {@link RelayClient} (a client's HTTP/1.1 connection) and {@link RelayStream} (an
 * HTTP/2 stream) are the two kinds of {@link RelayRequest} (balancing, pooling, response framing),
 * served by a {@link RelayBackend} connection. This class holds what is the listener's: the
 * configuration, its meters, and the header bytes.
 */
final class H1Relay extends ForwardingOpenListener {
  static final Logger log = LoggerFactory.getLogger(H1Relay.class);
  static final int BUFFER = 32 * 1024;
  static final int MAX_RESPONSE_HEAD = 64 * 1024;
  static final long POOLED_TTL_NANOS = TimeUnit.SECONDS.toNanos(60);
  static final long SWEEP_MILLIS = 250;

  static final byte[] HOST = Heads.ascii("host");
  static final byte[] CONTENT_LENGTH = Heads.ascii("content-length");
  static final byte[] TRANSFER_ENCODING = Heads.ascii("transfer-encoding");
  static final byte[] CONNECTION = Heads.ascii("connection");
  static final byte[] KEEP_ALIVE = Heads.ascii("keep-alive");
  static final byte[] PROXY_CONNECTION = Heads.ascii("proxy-connection");
  static final byte[] UPGRADE = Heads.ascii("upgrade");
  static final byte[] EXPECT = Heads.ascii("expect");
  static final byte[] TE = Heads.ascii("te");
  static final byte[] TRAILER = Heads.ascii("trailer");
  static final byte[] ACCEPT = Heads.ascii("accept");
  static final byte[] REFERER = Heads.ascii("referer");
  static final byte[] USER_AGENT = Heads.ascii("user-agent");
  static final byte[] X_FORWARDED_FOR = Heads.ascii("x-forwarded-for");
  static final byte[] X_FORWARDED_PROTO = Heads.ascii("x-forwarded-proto");
  static final byte[] X_FORWARDED_HOST = Heads.ascii("x-forwarded-host");
  static final byte[] X_FORWARDED_SERVER = Heads.ascii("x-forwarded-server");
  static final byte[] X_FORWARDED_PORT = Heads.ascii("x-forwarded-port");
  static final byte[] X_REQUEST_ID = Heads.ascii("x-request-id");
  static final byte[] STRICT_TRANSPORT_SECURITY = Heads.ascii("strict-transport-security");
  static final byte[] CLOSE = Heads.ascii("close");
  static final byte[] CHUNKED = Heads.ascii("chunked");
  static final byte[] HTTP_1_1 = Heads.ascii("HTTP/1.1");
  static final byte[] HTTP_1_1_LOWER = Heads.ascii("http/1.1");
  static final byte[] HTTP_1_0_LOWER = Heads.ascii("http/1.0");
  static final byte[] CRLF = {'\r', '\n'};
  static final byte[] X_FORWARDED_FOR_LINE = Heads.ascii("X-Forwarded-For: ");
  static final byte[] X_FORWARDED_PROTO_LINE = Heads.ascii("X-Forwarded-Proto: ");
  static final byte[] X_FORWARDED_SERVER_LINE = Heads.ascii("X-Forwarded-Server: ");
  static final byte[] X_FORWARDED_PORT_LINE = Heads.ascii("X-Forwarded-Port: ");
  static final byte[] X_FORWARDED_HOST_LINE = Heads.ascii("X-Forwarded-Host: ");
  static final byte[] X_REQUEST_ID_LINE = Heads.ascii("X-Request-Id: ");
  static final byte[] CONNECTION_CLOSE_LINE = Heads.ascii("Connection: close\r\n");
  static final byte[] REQUEST_LINE_END = Heads.ascii(" HTTP/1.1\r\n");
  static final byte[] COLON_SPACE = Heads.ascii(": ");

  /**
   * Fields of an HTTP/2 stream's request that its HTTP/1.1 request to the backend leaves out:
   * connection-specific ones, and the forwarded ones the relay writes itself.
   */
  static final Set<HttpString> STREAM_DROPPED =
      Set.of(
          Headers.CONNECTION,
          new HttpString("Keep-Alive"),
          new HttpString("Proxy-Connection"),
          Headers.TE,
          Headers.TRANSFER_ENCODING,
          Headers.UPGRADE,
          Headers.X_FORWARDED_HOST,
          Headers.X_FORWARDED_PROTO,
          Headers.X_FORWARDED_SERVER,
          Headers.X_FORWARDED_PORT);

  static final OptionMap BACKEND_OPTIONS = OptionMap.create(Options.TCP_NODELAY, true);

  /** For {@code https} backends: their certificate must also name the URL's host. */
  static final OptionMap TLS_BACKEND_OPTIONS =
      OptionMap.builder()
          .addAll(BACKEND_OPTIONS)
          .set(UndertowOptions.ENDPOINT_IDENTIFICATION_ALGORITHM, BalancingClient.HOST_CHECK)
          .getMap();

  static final int BODY_NONE = 0;
  static final int BODY_LENGTH = 1;
  static final int BODY_CHUNKED = 2;
  static final int BODY_UNTIL_CLOSE = 3;

  /**
   * What the relay needs from the lb's configuration.
   *
   * @param active whether the relay serves requests; when not, every connection goes to Undertow
   * @param limiter the listener's per-client rate limit, shared with Undertow's chain
   * @param hsts the {@code Strict-Transport-Security} value for responses, if any
   * @param maxBody the largest request body; larger ones go to Undertow, which answers 413
   * @param requestTimeoutNanos whole request; a backend that has not answered by then gets 504
   * @param trusted peers whose forwarded headers Undertow's chain handles
   * @param maxConnections per backend, over all IO threads; beyond, requests wait for one
   * @param queuePerThread requests that may wait per backend and IO thread; beyond, 503
   * @param queueTimeoutNanos how long a request waits for a connection before 503
   */
  record Settings(
      boolean active,
      Optional<RateLimitHandler> limiter,
      Optional<String> hsts,
      long maxBody,
      long requestTimeoutNanos,
      List<Cidr> trusted,
      int maxConnections,
      int queuePerThread,
      long queueTimeoutNanos) {}

  /**
   * The backends and settings, replaced as a whole on a reload.
   *
   * @param upstreamTls TLS towards {@code https} backends ({@code lb.upstream-tls}); without it
   *     requests to them go to Undertow's chain
   */
  record Route(
      Balancer balancer,
      RetryBudget budget,
      Optional<UndertowXnioSsl> upstreamTls,
      Settings settings) {}

  /** A {@link Route} with what the relay derives from it. */
  static final class State {
    final Route route;
    final Settings settings;
    final byte[] hstsLine;

    State(Route route) {
      this.route = route;
      this.settings = route.settings();
      this.hstsLine =
          settings
              .hsts()
              .map(v -> Heads.ascii("Strict-Transport-Security: " + v + "\r\n"))
              .orElse(null);
    }
  }

  final ListenerTap tap;
  final boolean https;
  volatile State state;
  final LbMeters meters;
  final Ticker ticker;
  final RelayPool pool;
  final byte[] proto;

  /** The port of {@code X-Forwarded-Port} when the {@code Host} header names none. */
  final byte[] defaultPort;

  final Counter handoffs;
  final Counter streams;

  H1Relay(
      DelegateOpenListener undertow,
      ListenerTap tap,
      RelayPool pool,
      boolean https,
      MeterRegistry registry) {
    super(undertow);
    this.https = https;
    this.handoffs =
        Counter.builder("foobar.lb.relay.handoffs")
            .description(
                "HTTP/1.1 connections the lb's relay handed to the full proxy chain, for a"
                    + " request it does not serve itself")
            .tag("listener", tap.name())
            .register(registry);
    this.streams =
        Counter.builder("foobar.lb.relay.streams")
            .description(
                "HTTP/2 streams the lb's relay sent to backends over its own connections, instead"
                    + " of Undertow's proxy")
            .tag("listener", tap.name())
            .register(registry);
    this.tap = tap;
    // the pool's, which the relays of both listeners share
    this.meters = pool.meters;
    this.ticker = pool.ticker;
    this.pool = pool;
    this.proto = Heads.ascii(https ? "https" : "http");
    this.defaultPort = Heads.ascii(https ? "443" : "80");
  }

  /**
   * Gives {@code connection}, with the bytes {@code extra} already read, to Undertow's listener.
   */
  void toUndertow(StreamConnection connection, PooledByteBuffer extra) {
    undertow.handleEvent(connection, extra);
  }

  /** Serves with {@code route} from now on; requests in flight finish with theirs. */
  void use(Route route) {
    state = new State(route);
  }

  /** Whether this relays the HTTPS listener. */
  boolean https() {
    return https;
  }

  /**
   * Whether the relay can serve requests to {@code upstream}: plain HTTP backends, and {@code
   * https} ones when {@code lb.upstream-tls} is configured.
   */
  static boolean serves(Route route, Upstream upstream) {
    String scheme = upstream.url().getScheme();
    return "http".equals(scheme) || ("https".equals(scheme) && route.upstreamTls().isPresent());
  }

  @Override
  public void handleEvent(StreamConnection connection, PooledByteBuffer extra) {
    XnioIoThread io = connection.getIoThread();
    if (Thread.currentThread() != io) {
      // XNIO's accepting thread gives the connection to a thread of its choice: the relay serves it
      // there, since its loop's state belongs to that thread alone
      io.execute(() -> handleEvent(connection, extra));
      return;
    }
    State st = state;
    if (!st.settings.active()) {
      undertow.handleEvent(connection, extra);
      return;
    }
    RelayLoop loop = pool.loop(io);
    SocketAddress peer = connection.getPeerAddress();
    InetAddress address = peer instanceof InetSocketAddress a ? a.getAddress() : null;
    if (address == null || !tap.admits(address) || trusted(st.settings, address)) {
      // Undertow's chain refuses it (403) or believes its forwarded headers
      handoffs.increment();
      undertow.handleEvent(connection, extra);
      return;
    }
    RelayClient client = new RelayClient(this, loop, connection, address);
    if (extra != null) {
      try {
        ByteBuffer b = extra.getBuffer();
        if (b.hasRemaining()) {
          client.pending = ByteBuffer.allocate(b.remaining()).put(b).flip();
        }
      } finally {
        extra.close();
      }
    }
    client.start();
  }

  /**
   * Serves {@code exchange}, a request that came through Undertow's chain of this (HTTPS) listener
   * up to the lb's front handler: an HTTP/2 stream without a body, from a peer that is not a
   * trusted proxy, goes to a backend over the relay's connections; anything else to {@code proxy},
   * Undertow's proxy, which also takes a stream whose backend failed before answering.
   */
  void stream(HttpServerExchange exchange, HttpHandler proxy) throws Exception {
    if (!Http2Requests.withoutBody(exchange)
        || Boolean.TRUE.equals(exchange.getAttachment(FrontHandler.TRUSTED_PEER))
        || !state.settings.active()) {
      proxy.handleRequest(exchange);
      return;
    }
    RelayStream s = new RelayStream(this, pool.loop(exchange.getIoThread()), exchange, proxy);
    // the exchange stays open when this returns: the stream ends it
    exchange.dispatch(SameThreadExecutor.INSTANCE, s::start);
  }

  static boolean trusted(Settings settings, InetAddress address) {
    for (Cidr c : settings.trusted()) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Writes {@code X-Forwarded-Proto}, {@code -Server}, {@code -Port} and {@code -Host} to {@code
   * out}, from the {@code Host} value at {@code [hostFrom, hostTo)} of {@code b} (which may be
   * {@code out}, before its position).
   */
  void forwarded(ByteBuffer out, ByteBuffer b, int hostFrom, int hostTo) {
    out.put(X_FORWARDED_PROTO_LINE).put(proto).put(CRLF);
    int colon = -1;
    if (b.get(hostFrom) != '[') {
      colon = Heads.indexOf(b, (byte) ':', hostFrom, hostTo);
    } else {
      int close = Heads.indexOf(b, (byte) ']', hostFrom, hostTo);
      if (close > 0 && close + 1 < hostTo && b.get(close + 1) == ':') {
        colon = close + 1;
      }
    }
    out.put(X_FORWARDED_SERVER_LINE);
    Heads.copy(b, hostFrom, colon < 0 ? hostTo : colon, out);
    out.put(CRLF);
    out.put(X_FORWARDED_PORT_LINE);
    if (colon < 0) {
      out.put(defaultPort);
    } else {
      Heads.copy(b, colon + 1, hostTo, out);
    }
    out.put(CRLF);
    out.put(X_FORWARDED_HOST_LINE);
    Heads.copy(b, hostFrom, hostTo, out);
    out.put(CRLF);
  }

  /**
   * Writes what remains of {@code unsent} (may be null) to {@code sink} and flushes it; false when
   * the sink has not taken it all yet.
   */
  static boolean drain(ByteBuffer unsent, StreamSinkChannel sink) throws IOException {
    while (unsent != null && unsent.hasRemaining()) {
      if (sink.write(unsent) == 0) {
        return false;
      }
    }
    return sink.flush();
  }

  /**
   * Writes {@code s} to {@code out}; false when it holds a space, a control or a non-ASCII char.
   */
  static boolean visibleAscii(String s, ByteBuffer out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 127) {
        return false;
      }
      out.put((byte) c);
    }
    return true;
  }

  /** Writes {@code s} to {@code out} as ISO-8859-1; false when it holds CR, LF, NUL or wider. */
  static boolean latin1(String s, ByteBuffer out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\r' || c == '\n' || c == 0 || c > 255) {
        return false;
      }
      out.put((byte) c);
    }
    return true;
  }

  /** {@code a} (may be null) followed by what remains of {@code b}, in a new buffer (read mode). */
  static ByteBuffer append(ByteBuffer a, ByteBuffer b) {
    int n = (a == null ? 0 : a.remaining()) + b.remaining();
    ByteBuffer r = ByteBuffer.allocate(n);
    if (a != null) {
      r.put(a);
    }
    r.put(b);
    return r.flip();
  }

  static HttpString method(ByteBuffer b, int from, int to) {
    return switch (to - from) {
      case 3 -> is(b, from, "GET") ? Methods.GET : is(b, from, "PUT") ? Methods.PUT : null;
      case 4 -> is(b, from, "HEAD") ? Methods.HEAD : is(b, from, "POST") ? Methods.POST : null;
      case 5 -> is(b, from, "PATCH") ? Methods.PATCH : null;
      case 6 -> is(b, from, "DELETE") ? Methods.DELETE : null;
      case 7 -> is(b, from, "OPTIONS") ? Methods.OPTIONS : null;
      default -> null;
    };
  }

  static boolean is(ByteBuffer b, int from, String s) {
    for (int i = 0; i < s.length(); i++) {
      if (b.get(from + i) != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
