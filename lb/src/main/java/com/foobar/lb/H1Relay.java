package com.foobar.lb;

import com.foobar.core.Cidr;
import com.foobar.core.ForwardingOpenListener;
import com.foobar.core.HttpLimits;
import com.foobar.core.ListenerTap;
import com.foobar.core.RateLimitHandler;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.UndertowOptions;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.protocols.http2.Http2Channel;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.Connectors;
import io.undertow.server.DelegateOpenListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.ImmediatePooledByteBuffer;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;

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
 * and its own idle backend connections ({@link Loop}). Backend connections are kept alive and
 * reused; a reused one that turns out closed is replaced once by a new one, without counting
 * against the backend.
 */
final class H1Relay extends ForwardingOpenListener {
  private static final Logger log = LoggerFactory.getLogger(H1Relay.class);
  private static final int BUFFER = 32 * 1024;
  private static final int MAX_RESPONSE_HEAD = 64 * 1024;
  private static final long POOLED_TTL_NANOS = TimeUnit.SECONDS.toNanos(60);
  private static final long SWEEP_MILLIS = 250;

  private static final byte[] HOST = Heads.ascii("host");
  private static final byte[] CONTENT_LENGTH = Heads.ascii("content-length");
  private static final byte[] TRANSFER_ENCODING = Heads.ascii("transfer-encoding");
  private static final byte[] CONNECTION = Heads.ascii("connection");
  private static final byte[] KEEP_ALIVE = Heads.ascii("keep-alive");
  private static final byte[] PROXY_CONNECTION = Heads.ascii("proxy-connection");
  private static final byte[] UPGRADE = Heads.ascii("upgrade");
  private static final byte[] EXPECT = Heads.ascii("expect");
  private static final byte[] TE = Heads.ascii("te");
  private static final byte[] TRAILER = Heads.ascii("trailer");
  private static final byte[] ACCEPT = Heads.ascii("accept");
  private static final byte[] X_FORWARDED_FOR = Heads.ascii("x-forwarded-for");
  private static final byte[] X_FORWARDED_PROTO = Heads.ascii("x-forwarded-proto");
  private static final byte[] X_FORWARDED_HOST = Heads.ascii("x-forwarded-host");
  private static final byte[] X_FORWARDED_SERVER = Heads.ascii("x-forwarded-server");
  private static final byte[] X_FORWARDED_PORT = Heads.ascii("x-forwarded-port");
  private static final byte[] X_REQUEST_ID = Heads.ascii("x-request-id");
  private static final byte[] STRICT_TRANSPORT_SECURITY = Heads.ascii("strict-transport-security");
  private static final byte[] CLOSE = Heads.ascii("close");
  private static final byte[] CHUNKED = Heads.ascii("chunked");
  private static final byte[] HTTP_1_1 = Heads.ascii("HTTP/1.1");
  private static final byte[] HTTP_1_1_LOWER = Heads.ascii("http/1.1");
  private static final byte[] HTTP_1_0_LOWER = Heads.ascii("http/1.0");
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] X_FORWARDED_FOR_LINE = Heads.ascii("X-Forwarded-For: ");
  private static final byte[] X_FORWARDED_PROTO_LINE = Heads.ascii("X-Forwarded-Proto: ");
  private static final byte[] X_FORWARDED_SERVER_LINE = Heads.ascii("X-Forwarded-Server: ");
  private static final byte[] X_FORWARDED_PORT_LINE = Heads.ascii("X-Forwarded-Port: ");
  private static final byte[] X_FORWARDED_HOST_LINE = Heads.ascii("X-Forwarded-Host: ");
  private static final byte[] X_REQUEST_ID_LINE = Heads.ascii("X-Request-Id: ");
  private static final byte[] CONNECTION_CLOSE_LINE = Heads.ascii("Connection: close\r\n");
  private static final byte[] REQUEST_LINE_END = Heads.ascii(" HTTP/1.1\r\n");
  private static final byte[] COLON_SPACE = Heads.ascii(": ");

  /**
   * Fields of an HTTP/2 stream's request that its HTTP/1.1 request to the backend leaves out:
   * connection-specific ones, and the forwarded ones the relay writes itself.
   */
  private static final Set<HttpString> STREAM_DROPPED =
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

  private static final OptionMap BACKEND_OPTIONS = OptionMap.create(Options.TCP_NODELAY, true);

  /** For {@code https} backends: their certificate must also name the URL's host. */
  private static final OptionMap TLS_BACKEND_OPTIONS =
      OptionMap.builder()
          .addAll(BACKEND_OPTIONS)
          .set(UndertowOptions.ENDPOINT_IDENTIFICATION_ALGORITHM, BalancingClient.HOST_CHECK)
          .getMap();

  private static final int BODY_NONE = 0;
  private static final int BODY_LENGTH = 1;
  private static final int BODY_CHUNKED = 2;
  private static final int BODY_UNTIL_CLOSE = 3;

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
  private static final class State {
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

  private final ListenerTap tap;
  private final boolean https;
  private volatile State state;
  private final LbMeters meters;
  private final Ticker ticker;
  private final XnioWorker worker;
  private final Loop[] loops;
  private final byte[] proto;

  /** The port of {@code X-Forwarded-Port} when the {@code Host} header names none. */
  private final byte[] defaultPort;

  private final ConcurrentHashMap<Upstream, InetSocketAddress> addresses =
      new ConcurrentHashMap<>();

  /** Connections and waiting requests per backend, over all IO threads. */
  private final ConcurrentHashMap<Upstream, Slots> slots = new ConcurrentHashMap<>();

  /**
   * A backend's share of the relay's pool: {@code pool.max-connections} caps {@link #open} over all
   * IO threads; {@link #waiting} counts the requests queued for one on any thread.
   */
  private static final class Slots {
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger waiting = new AtomicInteger();

    /** Counts one more connection, unless {@code max} are open. */
    boolean reserve(int max) {
      while (true) {
        int n = open.get();
        if (n >= max) {
          return false;
        }
        if (open.compareAndSet(n, n + 1)) {
          return true;
        }
      }
    }
  }

  private final Counter handoffs;
  private final Counter streams;

  H1Relay(
      DelegateOpenListener undertow,
      ListenerTap tap,
      XnioWorker worker,
      boolean https,
      LbMeters meters,
      MeterRegistry registry,
      Ticker ticker) {
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
    this.meters = meters;
    this.ticker = ticker;
    this.worker = worker;
    this.loops = new Loop[worker.getIoThreadCount()];
    this.proto = Heads.ascii(https ? "https" : "http");
    this.defaultPort = Heads.ascii(https ? "443" : "80");
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
  private static boolean serves(Route route, Upstream upstream) {
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
    Loop loop = loop(connection.getIoThread());
    SocketAddress peer = connection.getPeerAddress();
    InetAddress address = peer instanceof InetSocketAddress a ? a.getAddress() : null;
    if (address == null || !tap.admits(address) || trusted(st.settings, address)) {
      // Undertow's chain refuses it (403) or believes its forwarded headers
      handoffs.increment();
      undertow.handleEvent(connection, extra);
      return;
    }
    Client client = new Client(loop, connection, address);
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
    Stream s = new Stream(loop(exchange.getIoThread()), exchange, proxy);
    // the exchange stays open when this returns: the stream ends it
    exchange.dispatch(SameThreadExecutor.INSTANCE, s::start);
  }

  private static boolean trusted(Settings settings, InetAddress address) {
    for (Cidr c : settings.trusted()) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }

  private Loop loop(XnioIoThread thread) {
    assert Thread.currentThread() == thread : "the loop of " + thread + " used elsewhere";
    int n = thread.getNumber();
    Loop loop = loops[n];
    if (loop == null) {
      // only this thread creates or reads its loop
      loop = new Loop(thread);
      loops[n] = loop;
    }
    return loop;
  }

  private Slots slots(Upstream u) {
    return slots.computeIfAbsent(u, x -> new Slots());
  }

  /** Runs {@code task} on each IO thread but {@code here}'s, with that thread's loop. */
  private void elsewhere(Loop here, Consumer<Loop> task) {
    for (int i = 0; i < loops.length; i++) {
      if (i != here.thread.getNumber()) {
        XnioIoThread thread = worker.getIoThread(i);
        thread.execute(() -> task.accept(loop(thread)));
      }
    }
  }

  private InetSocketAddress address(Upstream u) {
    return addresses.computeIfAbsent(
        u,
        x -> {
          URI url = x.url();
          int port = url.getPort() > 0 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
          return new InetSocketAddress(url.getHost(), port);
        });
  }

  /**
   * One IO thread's scratch buffers, idle backend connections, and requests: relayed client
   * connections for their whole life, HTTP/2 streams while they wait for their response.
   */
  private final class Loop implements Runnable {
    final XnioIoThread thread;
    final ByteBuffer in = ByteBuffer.allocateDirect(BUFFER);
    final ByteBuffer out = ByteBuffer.allocateDirect(BUFFER);
    final IdentityHashMap<Upstream, ArrayDeque<Backend>> idle = new IdentityHashMap<>();
    final IdentityHashMap<Upstream, ArrayDeque<Request>> waiting = new IdentityHashMap<>();
    final ArrayList<Request> requests = new ArrayList<>();
    final ArrayList<Http2Channel> batched = new ArrayList<>();
    final Runnable flushes = this::flush;

    Loop(XnioIoThread thread) {
      this.thread = thread;
      thread.executeAtInterval(this, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    Backend takeIdle(Upstream u) {
      ArrayDeque<Backend> q = idle.get(u);
      while (q != null && !q.isEmpty()) {
        Backend b = q.pollLast();
        if (b.connection.isOpen()) {
          return b;
        }
        b.close();
      }
      return null;
    }

    ArrayDeque<Request> waiting(Upstream u) {
      return waiting.computeIfAbsent(u, x -> new ArrayDeque<>());
    }

    /** The next request waiting here for a connection to {@code u}, no longer queued; or null. */
    Request nextWaiting(Upstream u) {
      ArrayDeque<Request> q = waiting.get(u);
      Request c = q == null ? null : q.pollFirst();
      if (c != null) {
        c.queued = false;
        slots(u).waiting.decrementAndGet();
      }
      return c;
    }

    /**
     * A connection to {@code u} of this thread closed: a request waiting here opens a new one; with
     * none waiting here, one waiting on another thread may.
     */
    void slotFreed(Upstream u) {
      ArrayDeque<Request> q = waiting.get(u);
      if (q != null && !q.isEmpty()) {
        wake(u);
      } else if (slots(u).waiting.get() > 0) {
        elsewhere(this, l -> l.wake(u));
      }
    }

    /** The first request waiting here for {@code u} opens a connection, if the cap allows one. */
    void wake(Upstream u) {
      ArrayDeque<Request> q = waiting.get(u);
      if (q != null && !q.isEmpty() && slots(u).reserve(state.settings.maxConnections())) {
        nextWaiting(u).connect(u);
      }
    }

    /**
     * Holds back {@code connection}'s frames until the end of this turn of the IO thread's loop,
     * when {@link #flush} sends them with those of every other stream that ended in the same turn:
     * one TLS record and one write for many responses, where Undertow would write each stream's
     * frames as it ends. Undertow's own frames on the connection (its settings, pings, window
     * updates, the proxy's responses) wait for the same flush.
     */
    void batch(Http2Channel connection) {
      if (!connection.isRequireExplicitFlush()) {
        connection.setRequireExplicitFlush(true);
        batched.add(connection);
        if (batched.size() == 1) {
          thread.execute(flushes);
        }
      }
    }

    /** Sends what the connections of {@link #batch} hold back. */
    private void flush() {
      for (int i = 0; i < batched.size(); i++) {
        Http2Channel connection = batched.get(i);
        connection.setRequireExplicitFlush(false);
        connection.flush();
      }
      batched.clear();
    }

    /** Closes an idle connection to {@code u}, when a request waits for one on another thread. */
    void shedIdle(Upstream u) {
      ArrayDeque<Backend> q = idle.get(u);
      if (q != null && !q.isEmpty() && slots(u).waiting.get() > 0) {
        // its close frees the slot for the waiting thread (slotFreed)
        q.pollFirst().close();
      }
    }

    void add(Request c) {
      c.index = requests.size();
      requests.add(c);
    }

    void remove(Request c) {
      int i = c.index;
      if (i < 0) {
        return;
      }
      Request last = requests.remove(requests.size() - 1);
      if (last != c) {
        requests.set(i, last);
        last.index = i;
      }
      c.index = -1;
    }

    /** Timeouts: requests past the request timeout, idle requests, idle backend connections. */
    @Override
    public void run() {
      long now = ticker.read();
      long queueTimeout = state.settings.queueTimeoutNanos();
      long idleNanos = tap.limits().idleTimeout().toNanos();
      for (int i = requests.size() - 1; i >= 0; i--) {
        if (i < requests.size()) {
          requests.get(i).sweep(now, idleNanos);
        }
      }
      for (var e : waiting.entrySet()) {
        ArrayDeque<Request> q = e.getValue();
        while (!q.isEmpty() && now - q.peekFirst().queuedSince > queueTimeout) {
          Request c = nextWaiting(e.getKey());
          c.upstream.inFlight().decrementAndGet();
          c.answer(503);
        }
      }
      for (ArrayDeque<Backend> q : idle.values()) {
        while (!q.isEmpty() && now - q.peekFirst().idleSince > POOLED_TTL_NANOS) {
          q.pollFirst().close();
        }
      }
    }
  }

  /**
   * Writes {@code X-Forwarded-Proto}, {@code -Server}, {@code -Port} and {@code -Host} to {@code
   * out}, from the {@code Host} value at {@code [hostFrom, hostTo)} of {@code b} (which may be
   * {@code out}, before its position).
   */
  private void forwarded(ByteBuffer out, ByteBuffer b, int hostFrom, int hostTo) {
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
   * A request that backend connections serve: the request in flight on a relayed client connection
   * ({@link Client}) or an HTTP/2 stream of Undertow's listener ({@link Stream}). Picks the
   * backend, waits for or opens a connection to it, retries once on a fresh connection when a
   * kept-alive one turns out closed, and follows the response's framing; the subclass says where
   * the response goes.
   */
  private abstract class Request {
    final Loop loop;
    int index = -1;
    State st;
    boolean busy;
    HttpString method;
    boolean headRequest;
    boolean idempotent;
    boolean json;
    boolean closeAfter;
    byte[] request;
    String requestId;
    long start;
    Upstream upstream;
    Backend backend;
    boolean responseStarted;
    boolean freshRetried;
    boolean queued;
    long queuedSince;
    int status;

    /** The status of the response head being read (a 1xx is interim). */
    int headStatus;

    Request(Loop loop) {
      this.loop = loop;
    }

    /** The request's method, and what follows from it. */
    void setMethod(HttpString m) {
      method = m;
      headRequest = m.equals(Methods.HEAD);
      idempotent = !m.equals(Methods.POST) && !m.equals(Methods.PATCH);
    }

    /** Gives the request to Undertow's proxy, which retries it elsewhere or answers 502/503. */
    abstract void handBack();

    /** Answers the request with the lb's own page for {@code code} (502, 503 or 504). */
    abstract void answer(int code);

    /**
     * Ends a response that started and cannot be finished: the client must not take it as whole.
     */
    abstract void abort();

    /** Timeouts, from the loop's sweep. */
    abstract void sweep(long now, long idleNanos);

    /**
     * Takes the status line {@code [from, lineEnd)} of a response head whose status is {@code
     * code}.
     */
    abstract void statusLine(ByteBuffer src, int from, int lineEnd);

    /**
     * Takes the header line {@code [line, eol)} with name {@code [line, colon)} and value {@code
     * [v, ve)}; false when the head grew too large.
     */
    abstract boolean header(ByteBuffer src, int line, int colon, int v, int ve, int eol);

    /** Whether the field named {@code [line, colon)}, of {@code length} bytes, stays out. */
    abstract boolean dropped(ByteBuffer src, int line, int colon, int length);

    /** The head is read: a final one ({@link #status} set) or an interim one. */
    abstract void headDone(boolean interim);

    /** Passes an interim (1xx) head on; false when the client has not taken it all. */
    abstract boolean interim();

    /**
     * Passes {@code [from, to)} of the body on (with the final head first, when {@code headOut});
     * false when the client has not taken it all.
     */
    abstract boolean body(
        Backend b, ByteBuffer src, int from, int to, boolean headOut, boolean done);

    /** Where the data of a chunked body goes, without its framing; null to pass the framing on. */
    abstract Heads.Data dechunked();

    /** The response was passed on whole, {@code nanos} after the request began. */
    abstract void finished(long nanos);

    /** Sends the request in {@code bytes} (read mode) to a backend not in {@code tried}. */
    void dispatch(ByteBuffer bytes, List<Upstream> tried) {
      Optional<Upstream> picked = st.route.balancer().pick(tried);
      if (picked.isEmpty() || !serves(st.route, picked.get())) {
        handBack();
        return;
      }
      Upstream u = picked.get();
      upstream = u;
      responseStarted = false;
      status = 0;
      u.inFlight().incrementAndGet();
      Backend b = loop.takeIdle(u);
      if (b != null) {
        b.attach(this, true);
        b.send(bytes);
        return;
      }
      connectOrWait(u);
    }

    /**
     * Opens a new connection to {@code u} when the pool's cap allows one, else waits for one in
     * this thread's queue (503 when it is full).
     */
    void connectOrWait(Upstream u) {
      Slots slots = slots(u);
      if (!slots.reserve(st.settings.maxConnections())) {
        ArrayDeque<Request> q = loop.waiting(u);
        if (q.size() >= st.settings.queuePerThread()) {
          u.inFlight().decrementAndGet();
          answer(503);
          return;
        }
        queued = true;
        queuedSince = ticker.read();
        q.addLast(this);
        slots.waiting.incrementAndGet();
        // a connection that closed between the failed reservation and the count above saw no
        // waiter, so this thread looks again: counting first, then reserving, one of the two sides
        // sees the other
        loop.wake(u);
        if (queued) {
          // another IO thread may hold the connections idle: it closes one so that this thread can
          // open it
          elsewhere(loop, l -> l.shedIdle(u));
        }
        return;
      }
      connect(u);
    }

    /** Opens a new backend connection for the request in flight, in a slot already reserved. */
    void connect(Upstream u) {
      Backend b = new Backend(loop, u);
      b.attach(this, false);
      backend = b;
      IoFuture<? extends StreamConnection> future =
          "https".equals(u.url().getScheme())
              ? st.route
                  .upstreamTls()
                  .orElseThrow()
                  .openSslConnection(loop.thread, address(u), null, TLS_BACKEND_OPTIONS)
              : loop.thread.openStreamConnection(address(u), null, BACKEND_OPTIONS);
      future.addNotifier(
          new IoFuture.HandlingNotifier<StreamConnection, Backend>() {
            @Override
            public void handleDone(StreamConnection connection, Backend backend) {
              backend.connected(connection);
            }

            @Override
            public void handleFailed(IOException e, Backend backend) {
              backend.connectFailed(e);
            }

            @Override
            public void handleCancelled(Backend backend) {
              backend.connectFailed(new IOException("cancelled"));
            }
          },
          b);
    }

    /**
     * Response bytes from the backend, in {@code in} (read mode, the loop's scratch).
     *
     * @return false when the backend connection must not be read any further now
     */
    boolean response(Backend b, ByteBuffer in) {
      ByteBuffer src = in;
      int from = in.position();
      boolean headOut = false;
      while (!b.headDone) {
        if (b.head != null) {
          b.head = append(b.head, src);
          src = b.head;
          from = src.position();
        }
        int end = Heads.headEnd(src, from, src.limit());
        if (end < 0) {
          if (b.head == null) {
            b.head = append(null, src);
          }
          if (b.head.remaining() > MAX_RESPONSE_HEAD) {
            backendFailed(b, "response head too large");
            return false;
          }
          return true;
        }
        if (!responseHead(b, src, from, end)) {
          backendFailed(b, "malformed response head");
          return false;
        }
        src.position(end);
        b.head = null;
        from = end;
        if (!b.headDone) {
          // an interim response (1xx): its final response follows
          if (!interim()) {
            b.source.suspendReads();
            return false;
          }
        } else {
          headOut = true;
        }
      }
      int to = src.limit();
      int taken;
      boolean done;
      switch (b.mode) {
        case BODY_NONE -> {
          taken = 0;
          done = true;
        }
        case BODY_LENGTH -> {
          taken = (int) Math.min(b.remaining, to - from);
          b.remaining -= taken;
          done = b.remaining == 0;
        }
        case BODY_CHUNKED -> {
          int r = b.chunked.scan(src, from, to, dechunked());
          if (r == -2) {
            backendFailed(b, "malformed chunked body");
            return false;
          }
          taken = r < 0 ? to - from : r - from;
          done = r >= 0;
        }
        default -> {
          taken = to - from;
          done = false;
        }
      }
      if (from + taken < to) {
        // more than the response: the connection is out of step
        b.reusable = false;
      }
      boolean flushed = body(b, src, from, from + taken, headOut, done);
      if (!busy || backend != b) {
        // the client went away while taking it
        return false;
      }
      if (done) {
        complete(b);
        return false;
      }
      if (!flushed) {
        b.source.suspendReads();
        return false;
      }
      return true;
    }

    /** Reads the response head in {@code [from, end)} and passes it to the subclass. */
    private boolean responseHead(Backend b, ByteBuffer src, int from, int end) {
      int lineEnd = Heads.indexOf(src, (byte) '\r', from, end);
      if (lineEnd - from < 12 || src.get(from + 8) != ' ') {
        return false;
      }
      boolean http11 = Heads.equalsLower(src, from, from + 8, HTTP_1_1_LOWER);
      if (!http11 && !Heads.equalsLower(src, from, from + 8, HTTP_1_0_LOWER)) {
        return false;
      }
      long code = Heads.decimal(src, from + 9, from + 12);
      if (code < 100 || code > 599 || code == 101) {
        return false;
      }
      headStatus = (int) code;
      statusLine(src, from, lineEnd);
      long length = -1;
      boolean chunked = false;
      boolean otherCoding = false;
      boolean keepAlive = http11;
      int line = lineEnd + 2;
      while (line < end - 2) {
        int eol = Heads.indexOf(src, (byte) '\r', line, end);
        if (eol < 0) {
          return false;
        }
        int colon = Heads.indexOf(src, (byte) ':', line, eol);
        if (colon <= line) {
          return false;
        }
        int v = colon + 1;
        while (v < eol && (src.get(v) == ' ' || src.get(v) == '\t')) {
          v++;
        }
        int ve = eol;
        while (ve > v && (src.get(ve - 1) == ' ' || src.get(ve - 1) == '\t')) {
          ve--;
        }
        boolean keep = true;
        switch (colon - line) {
          case 10 -> {
            if (Heads.equalsLower(src, line, colon, CONNECTION)) {
              if (Heads.hasToken(src, v, ve, CLOSE)) {
                keepAlive = false;
              } else if (Heads.hasToken(src, v, ve, KEEP_ALIVE)) {
                keepAlive = true;
              }
              keep = false;
            } else if (Heads.equalsLower(src, line, colon, KEEP_ALIVE)) {
              keep = false;
            }
          }
          case 12 -> keep = !Heads.equalsLower(src, line, colon, X_REQUEST_ID);
          case 14 -> {
            if (Heads.equalsLower(src, line, colon, CONTENT_LENGTH)) {
              long l = Heads.decimal(src, v, ve);
              if (l < 0 || (length >= 0 && l != length)) {
                return false;
              }
              length = l;
            }
          }
          case 16 -> keep = !Heads.equalsLower(src, line, colon, PROXY_CONNECTION);
          case 17 -> {
            if (Heads.equalsLower(src, line, colon, TRANSFER_ENCODING)) {
              if (Heads.hasToken(src, v, ve, CHUNKED)) {
                chunked = true;
              } else {
                otherCoding = true;
              }
            }
          }
          case 25 ->
              keep =
                  st.hstsLine == null
                      || !Heads.equalsLower(src, line, colon, STRICT_TRANSPORT_SECURITY);
          default -> {}
        }
        if (keep
            && !dropped(src, line, colon, colon - line)
            && !header(src, line, colon, v, ve, eol)) {
          return false;
        }
        line = eol + 2;
      }
      if (headStatus < 200) {
        headDone(true);
        return true;
      }
      status = headStatus;
      b.headDone = true;
      b.reusable = keepAlive;
      if (headRequest || status == 204 || status == 304) {
        b.mode = BODY_NONE;
      } else if (chunked && !otherCoding) {
        b.mode = BODY_CHUNKED;
        b.chunked.reset();
      } else if (otherCoding || length < 0) {
        b.mode = BODY_UNTIL_CLOSE;
        b.reusable = false;
        closeAfter = true;
      } else {
        b.mode = BODY_LENGTH;
        b.remaining = length;
      }
      headDone(false);
      responseStarted = true;
      return true;
    }

    /** The response of the request in flight is complete. */
    void complete(Backend b) {
      long nanos = ticker.read() - start;
      Upstream u = upstream;
      u.inFlight().decrementAndGet();
      meters.answered(u, status, nanos);
      busy = false;
      backend = null;
      b.release();
      finished(nanos);
    }

    /**
     * The backend connection of the request in flight failed ({@code reason}): the request goes to
     * another backend when nothing of its response has reached the client.
     */
    void backendFailed(Backend b, String reason) {
      boolean mine = busy && backend == b;
      boolean answered = b.headDone || b.head != null;
      // a kept-alive connection the backend had closed: once more on a new one, not its fault
      boolean fresh = mine && b.reused && !answered && !freshRetried && !responseStarted;
      // the new connection takes the old one's place in the pool, if it still holds it
      boolean place = fresh && !b.closed;
      b.keepsSlot = place;
      b.close();
      if (!mine) {
        return;
      }
      backend = null;
      Upstream u = upstream;
      if (fresh) {
        freshRetried = true;
        if (place) {
          connect(u);
        } else {
          connectOrWait(u);
        }
        return;
      }
      u.inFlight().decrementAndGet();
      meters.failed(u, reason);
      if (responseStarted) {
        abort();
        return;
      }
      if (idempotent || !b.sent) {
        handBack();
        return;
      }
      answer(502);
    }

    /** The request timeout passed: 504, or the response cut off when it had started. */
    void timedOut() {
      Backend b = backend;
      Upstream u = upstream;
      backend = null;
      if (b != null) {
        b.close();
      }
      if (u != null) {
        u.inFlight().decrementAndGet();
        meters.answered(u, 504, ticker.read() - start);
      }
      if (responseStarted) {
        abort();
        return;
      }
      answer(504);
    }

    /** The client went away: the backend connection of the request in flight is closed. */
    void cancel() {
      if (queued) {
        queued = false;
        if (loop.waiting(upstream).remove(this)) {
          slots(upstream).waiting.decrementAndGet();
        }
      }
      if (busy) {
        busy = false;
        Backend b = backend;
        backend = null;
        if (b != null) {
          b.close();
        }
        if (upstream != null) {
          upstream.inFlight().decrementAndGet();
        }
      }
    }
  }

  /** A client connection served by the relay, and the request in flight on it. */
  private final class Client extends Request {
    final StreamConnection connection;
    final ConduitStreamSourceChannel source;
    final ConduitStreamSinkChannel sink;
    final InetAddress peer;
    final byte[] peerText;
    boolean counted;
    boolean closed;
    long lastActive;

    /** Client bytes read but not yet served (pipelined requests), read mode. */
    ByteBuffer pending;

    /** Response bytes the client has not taken yet, read mode. */
    ByteBuffer unsent;

    /** The request in flight as the client sent it, for Undertow when the relay gives it back. */
    byte[] original;

    Client(Loop loop, StreamConnection connection, InetAddress peer) {
      super(loop);
      this.connection = connection;
      this.source = connection.getSourceChannel();
      this.sink = connection.getSinkChannel();
      this.peer = peer;
      this.peerText = Heads.ascii(peer.getHostAddress());
    }

    void start() {
      loop.add(this);
      lastActive = ticker.read();
      connection.setCloseListener(c -> closed());
      source.getReadSetter().set(ch -> readable());
      sink.getWriteSetter().set(ch -> writable());
      if (pending != null) {
        ByteBuffer p = pending;
        pending = null;
        serve(p, false);
        if (closed || index < 0) {
          return;
        }
      }
      source.resumeReads();
    }

    void readable() {
      ByteBuffer in = loop.in;
      while (!closed && index >= 0) {
        in.clear();
        int n;
        try {
          n = source.read(in);
        } catch (IOException e) {
          close();
          return;
        }
        if (n == 0) {
          return;
        }
        if (n < 0) {
          // HTTP/1.1 clients do not half-close while they wait for a response: a request in
          // flight is abandoned
          close();
          return;
        }
        in.flip();
        lastActive = ticker.read();
        if (busy || pending != null) {
          pending = append(pending, in);
          if (pending.remaining() > BUFFER) {
            // a client that pipelines this much waits for its earlier responses
            source.suspendReads();
          }
          if (!busy) {
            ByteBuffer p = pending;
            pending = null;
            serve(p, false);
          }
        } else {
          serve(in, true);
        }
        if (n < BUFFER) {
          // the socket had no more: reading on would cost a syscall that finds nothing, and the
          // selector (or the TLS conduit, for bytes it holds decrypted) calls again when there is
          return;
        }
      }
    }

    /**
     * Serves the requests at the start of {@code data} (read mode), one at a time.
     *
     * @param scratch whether {@code data} is the loop's scratch buffer, which must not be kept
     */
    void serve(ByteBuffer data, boolean scratch) {
      st = state;
      if (tap.draining() || !st.settings.active()) {
        // Undertow's chain answers 503 and closes
        handOff(data);
        return;
      }
      int from = data.position();
      int to = data.limit();
      int end = Heads.headEnd(data, from, to);
      if (end < 0) {
        handOff(data);
        return;
      }
      if (!parseRequest(data, from, end)) {
        handOff(data);
        return;
      }
      int bodyEnd = end + (int) bodyLength;
      if (bodyEnd > to) {
        handOff(data);
        return;
      }
      // the request as the backend gets it: in loop.out, then copied for a retry
      ByteBuffer out = loop.out;
      out.flip();
      if (bodyEnd > end) {
        if (out.limit() + (bodyEnd - end) > out.capacity()) {
          handOff(data);
          return;
        }
        out.position(out.limit()).limit(out.capacity());
        Heads.copy(data, end, bodyEnd, out);
        out.flip();
      }
      original = new byte[bodyEnd - from];
      data.get(from, original);
      request = new byte[out.remaining()];
      out.get(out.position(), request);
      data.position(bodyEnd);
      if (data.hasRemaining()) {
        pending = scratch ? ByteBuffer.allocate(data.remaining()).put(data).flip() : data;
      } else {
        pending = null;
      }
      if (!counted) {
        counted = true;
        tap.connectionOpened();
      }
      busy = true;
      start = ticker.read();
      tap.begin();
      if (st.settings.limiter().isPresent()) {
        long retryAfter = st.settings.limiter().get().admit(peer);
        if (retryAfter > 0) {
          tooMany(retryAfter);
          return;
        }
      }
      // the base of the retry budget, which Undertow's proxy spends on requests handed back
      st.route.budget().onRequest();
      dispatch(out, List.of());
    }

    private long bodyLength;

    /**
     * Reads the head in {@code [from, end)} and writes the request the backend gets into loop.out
     * (write mode); false when Undertow should serve it.
     */
    private boolean parseRequest(ByteBuffer b, int from, int end) {
      HttpLimits limits = tap.limits();
      int maxUri = limits.maxUriLength().intBytes();
      int maxHeaderBytes = limits.maxHeaderSize().intBytes();
      int maxHeaders = limits.maxHeaders();
      // every kept line is copied to loop.out: a head that cannot fit goes to Undertow's chain
      if (end - from > maxHeaderBytes + maxUri + 64 || end - from > BUFFER) {
        return false;
      }
      int lineEnd = Heads.indexOf(b, (byte) '\r', from, end);
      int sp1 = Heads.indexOf(b, (byte) ' ', from, lineEnd);
      if (sp1 <= from) {
        return false;
      }
      int sp2 = Heads.indexOf(b, (byte) ' ', sp1 + 1, lineEnd);
      // Undertow's limit counts the path, the query and one more
      if (sp2 < 0 || sp2 - sp1 > maxUri || b.get(sp1 + 1) != '/') {
        return false;
      }
      if (!Heads.equalsLower(b, sp2 + 1, lineEnd, HTTP_1_1_LOWER)) {
        return false;
      }
      HttpString m = method(b, from, sp1);
      if (m == null) {
        return false;
      }
      setMethod(m);
      for (int i = sp1 + 1; i < sp2; i++) {
        int c = b.get(i);
        if (c <= ' ' || c >= 127) {
          return false;
        }
      }
      ByteBuffer out = loop.out;
      out.clear();
      Heads.copy(b, from, lineEnd + 2, out);
      int hostFrom = -1;
      int hostTo = -1;
      int xffFrom = -1;
      int xffTo = -1;
      long length = 0;
      boolean sawLength = false;
      json = false;
      closeAfter = false;
      int fields = 0;
      int line = lineEnd + 2;
      while (line < end - 2) {
        int eol = Heads.indexOf(b, (byte) '\r', line, end);
        if (eol < 0 || b.get(eol + 1) != '\n') {
          return false;
        }
        int colon = Heads.indexOf(b, (byte) ':', line, eol);
        if (colon <= line) {
          return false;
        }
        for (int i = line; i < colon; i++) {
          if (!Heads.tokenChar(b.get(i))) {
            return false;
          }
        }
        if (++fields > maxHeaders) {
          return false;
        }
        int v = colon + 1;
        while (v < eol && (b.get(v) == ' ' || b.get(v) == '\t')) {
          v++;
        }
        int ve = eol;
        while (ve > v && (b.get(ve - 1) == ' ' || b.get(ve - 1) == '\t')) {
          ve--;
        }
        boolean keep = true;
        switch (colon - line) {
          case 2 -> keep = !Heads.equalsLower(b, line, colon, TE);
          case 4 -> {
            if (Heads.equalsLower(b, line, colon, HOST)) {
              if (hostFrom >= 0 || v == ve) {
                return false;
              }
              hostFrom = v;
              hostTo = ve;
            }
          }
          case 6 -> {
            if (Heads.equalsLower(b, line, colon, EXPECT)) {
              return false;
            }
            if (Heads.equalsLower(b, line, colon, ACCEPT)) {
              json |= ErrorPages.wantsJson(Heads.string(b, v, ve));
            }
          }
          case 7 -> {
            if (Heads.equalsLower(b, line, colon, UPGRADE)) {
              return false;
            }
            keep = !Heads.equalsLower(b, line, colon, TRAILER);
          }
          case 10 -> {
            if (Heads.equalsLower(b, line, colon, CONNECTION)) {
              if (Heads.hasToken(b, v, ve, UPGRADE)) {
                return false;
              }
              closeAfter |= Heads.hasToken(b, v, ve, CLOSE);
              keep = false;
            } else if (Heads.equalsLower(b, line, colon, KEEP_ALIVE)) {
              keep = false;
            }
          }
          case 12 -> keep = !Heads.equalsLower(b, line, colon, X_REQUEST_ID);
          case 14 -> {
            if (Heads.equalsLower(b, line, colon, CONTENT_LENGTH)) {
              if (sawLength) {
                return false;
              }
              sawLength = true;
              length = Heads.decimal(b, v, ve);
              if (length < 0 || length > st.settings.maxBody()) {
                return false;
              }
            }
          }
          case 15 -> {
            if (Heads.equalsLower(b, line, colon, X_FORWARDED_FOR)) {
              if (xffFrom >= 0) {
                return false;
              }
              xffFrom = v;
              xffTo = ve;
              keep = false;
            }
          }
          case 16 ->
              keep =
                  !Heads.equalsLower(b, line, colon, PROXY_CONNECTION)
                      && !Heads.equalsLower(b, line, colon, X_FORWARDED_HOST)
                      && !Heads.equalsLower(b, line, colon, X_FORWARDED_PORT);
          case 17 -> {
            if (Heads.equalsLower(b, line, colon, TRANSFER_ENCODING)) {
              return false;
            }
            keep = !Heads.equalsLower(b, line, colon, X_FORWARDED_PROTO);
          }
          case 18 -> keep = !Heads.equalsLower(b, line, colon, X_FORWARDED_SERVER);
          default -> {}
        }
        if (keep) {
          Heads.copy(b, line, eol + 2, out);
        }
        line = eol + 2;
      }
      // Undertow's limit counts "name: value\r\n" per field: at most one more byte than sent
      if (hostFrom < 0 || end - (lineEnd + 2) + fields > maxHeaderBytes) {
        return false;
      }
      bodyLength = length;
      // the lines added below repeat the Host value three times and the X-Forwarded-For value once
      int added = 3 * (hostTo - hostFrom) + Math.max(0, xffTo - xffFrom) + 256;
      if (out.remaining() < added) {
        return false;
      }
      // X-Forwarded-For: what came, then the peer (Undertow's proxy does the same)
      out.put(X_FORWARDED_FOR_LINE);
      if (xffFrom >= 0 && xffTo > xffFrom) {
        Heads.copy(b, xffFrom, xffTo, out);
        out.put((byte) ',');
      }
      out.put(peerText).put(CRLF);
      forwarded(out, b, hostFrom, hostTo);
      requestId = RequestIds.next();
      out.put(X_REQUEST_ID_LINE).put(requestId.getBytes(StandardCharsets.ISO_8859_1)).put(CRLF);
      out.put(CRLF);
      return true;
    }

    @Override
    void statusLine(ByteBuffer src, int from, int lineEnd) {
      ByteBuffer out = loop.out;
      out.clear();
      out.put(HTTP_1_1);
      Heads.copy(src, from + 8, lineEnd + 2, out);
    }

    @Override
    boolean dropped(ByteBuffer src, int line, int colon, int length) {
      return false;
    }

    @Override
    boolean header(ByteBuffer src, int line, int colon, int v, int ve, int eol) {
      ByteBuffer out = loop.out;
      if (out.remaining() < eol + 2 - line + 512) {
        return false;
      }
      Heads.copy(src, line, eol + 2, out);
      return true;
    }

    @Override
    void headDone(boolean interim) {
      ByteBuffer out = loop.out;
      if (!interim) {
        if (st.hstsLine != null) {
          out.put(st.hstsLine);
        }
        out.put(X_REQUEST_ID_LINE).put(requestId.getBytes(StandardCharsets.ISO_8859_1)).put(CRLF);
        if (closeAfter || tap.draining()) {
          closeAfter = true;
          out.put(CONNECTION_CLOSE_LINE);
        }
      }
      out.put(CRLF).flip();
    }

    @Override
    boolean interim() {
      return write(loop.out);
    }

    @Override
    Heads.Data dechunked() {
      return null;
    }

    @Override
    boolean body(Backend b, ByteBuffer src, int from, int to, boolean headOut, boolean done) {
      ByteBuffer out = loop.out;
      boolean flushed = true;
      if (headOut && out.limit() + (to - from) <= out.capacity()) {
        // head and body in one write
        out.position(out.limit()).limit(out.capacity());
        Heads.copy(src, from, to, out);
        out.flip();
        flushed = write(out);
      } else {
        if (headOut) {
          flushed = write(out);
        }
        if (to > from && !closed) {
          ByteBuffer body = src.duplicate();
          body.limit(to).position(from);
          flushed = write(body);
        }
      }
      return flushed;
    }

    @Override
    void finished(long nanos) {
      tap.end(method, status, nanos);
      lastActive = ticker.read();
      if (closeAfter) {
        if (unsent == null) {
          close();
        }
        return;
      }
      if (unsent != null) {
        // the rest waits for the client to take the response
        return;
      }
      next();
    }

    @Override
    void abort() {
      tap.end(method, status, ticker.read() - start);
      busy = false;
      close();
    }

    /** Gives the connection to Undertow with the request in flight and what follows it. */
    @Override
    void handBack() {
      busy = false;
      tap.cancel();
      ByteBuffer bytes = ByteBuffer.wrap(original);
      if (pending != null) {
        bytes = append(append(null, bytes), pending);
        pending = null;
      }
      handOff(bytes);
    }

    /** Gives the connection with the unserved bytes {@code data} to Undertow's chain. */
    void handOff(ByteBuffer data) {
      if (closed) {
        return;
      }
      loop.remove(this);
      if (counted) {
        counted = false;
        tap.connectionClosed();
      }
      source.getReadSetter().set(null);
      sink.getWriteSetter().set(null);
      // XNIO adds close listeners up, it cannot take ours off: it ignores the close from now on
      closed = true;
      handoffs.increment();
      PooledByteBuffer extra = null;
      if (data != null && data.hasRemaining()) {
        extra =
            new ImmediatePooledByteBuffer(
                ByteBuffer.allocateDirect(data.remaining()).put(data).flip());
      }
      undertow.handleEvent(connection, extra);
    }

    /** Serves a pipelined request, if one came while the last was in flight. */
    void next() {
      if (pending != null && !busy && !closed) {
        ByteBuffer p = pending;
        pending = null;
        source.resumeReads();
        serve(p, false);
      }
    }

    /** Answers the request in flight with the lb's own page for {@code code} and closes. */
    @Override
    void answer(int code) {
      ErrorPages.Page page = ErrorPages.of(code, json).orElseThrow();
      closeAfter = true;
      responseStarted = true;
      respond(
          code,
          switch (code) {
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Bad Gateway";
          },
          "Content-Type: "
              + page.contentType()
              + "\r\nCache-Control: no-store\r\nX-Request-Id: "
              + requestId
              + "\r\n"
              + (st.hstsLine == null ? "" : new String(st.hstsLine, StandardCharsets.ISO_8859_1)),
          page.body().getBytes(StandardCharsets.UTF_8));
    }

    /** Answers 429 as the rate limit of Undertow's chain does; the connection goes on. */
    private void tooMany(long retryAfter) {
      respond(
          429,
          "Too Many Requests",
          "Retry-After: " + retryAfter + "\r\nContent-Type: application/json\r\n",
          Heads.ascii(RateLimitHandler.body(retryAfter)));
    }

    /**
     * Ends the request in flight with a response of the lb's own ({@code headers}: whole lines; no
     * body for HEAD), then goes on with the connection, or closes it after {@code closeAfter}.
     */
    private void respond(int code, String reason, String headers, byte[] body) {
      byte[] head =
          Heads.ascii(
              "HTTP/1.1 "
                  + code
                  + " "
                  + reason
                  + "\r\n"
                  + headers
                  + "Content-Length: "
                  + body.length
                  + (closeAfter ? "\r\nConnection: close" : "")
                  + "\r\n\r\n");
      ByteBuffer bytes = ByteBuffer.allocate(head.length + (headRequest ? 0 : body.length));
      bytes.put(head);
      if (!headRequest) {
        bytes.put(body);
      }
      bytes.flip();
      status = code;
      tap.end(method, code, ticker.read() - start);
      busy = false;
      boolean flushed = write(bytes);
      if (closed) {
        return;
      }
      if (closeAfter) {
        if (flushed) {
          close();
        }
        return;
      }
      if (flushed) {
        next();
      }
    }

    @Override
    void sweep(long now, long idleNanos) {
      if (closed) {
        return;
      }
      if (busy) {
        if (!queued && now - start > st.settings.requestTimeoutNanos()) {
          timedOut();
        }
      } else if (unsent == null && now - lastActive > idleNanos) {
        close();
      }
    }

    /** Writes {@code b} to the client, queueing what the socket does not take. */
    boolean write(ByteBuffer b) {
      if (unsent != null) {
        return queue(b);
      }
      try {
        while (b.hasRemaining()) {
          if (sink.write(b) == 0) {
            break;
          }
        }
        if (!b.hasRemaining() && sink.flush()) {
          return true;
        }
      } catch (IOException e) {
        close();
        return false;
      }
      return queue(b);
    }

    private boolean queue(ByteBuffer b) {
      if (b.hasRemaining()) {
        unsent = append(unsent, b);
      }
      if (unsent == null) {
        // only a flush was pending
        unsent = ByteBuffer.allocate(0);
      }
      sink.resumeWrites();
      return false;
    }

    void writable() {
      try {
        if (!drain(unsent, sink)) {
          return;
        }
      } catch (IOException e) {
        close();
        return;
      }
      unsent = null;
      sink.suspendWrites();
      if (busy && backend != null) {
        backend.source.resumeReads();
        return;
      }
      if (closeAfter) {
        close();
        return;
      }
      next();
    }

    void close() {
      if (!closed && unsent == null) {
        // end the stream first: on TLS that sends close_notify, without which the client takes the
        // close as truncation and will not resume the session on its next connection
        try {
          sink.shutdownWrites();
          sink.flush();
        } catch (IOException e) {
          // closing anyway
        }
      }
      IoUtils.safeClose(connection);
      closed();
    }

    /** The connection closed, by either side. */
    void closed() {
      if (closed) {
        return;
      }
      closed = true;
      loop.remove(this);
      if (counted) {
        counted = false;
        tap.connectionClosed();
      }
      boolean inFlight = busy;
      cancel();
      if (inFlight) {
        tap.end(method, status, ticker.read() - start);
      }
      pending = null;
      unsent = null;
    }
  }

  /**
   * An HTTP/2 stream of Undertow's HTTPS listener, relayed as a client connection's request is: its
   * head, as Undertow decoded it, goes as an HTTP/1.1 request over a pooled backend connection, and
   * the backend's response comes back through the exchange (its header fields into Undertow's map,
   * its body without chunked framing into the response channel). All of it happens on the stream's
   * IO thread. Undertow's proxy serves the stream instead when its backend failed before answering
   * (see {@link #stream}).
   */
  private final class Stream extends Request implements Heads.Data {
    final HttpServerExchange exchange;
    final HttpHandler proxy;

    /** The HTTP/2 connection the stream belongs to, whose frames {@link Loop#batch} holds back. */
    final Http2Channel connection;

    StreamSinkChannel channel;

    /** The response's header fields, name and value in turn, until its head is whole. */
    final ArrayList<Object> fields = new ArrayList<>();

    /** Body bytes the response channel has not taken yet, read mode. */
    ByteBuffer unsent;

    /** The response is whole: the exchange ends once {@link #unsent} is written. */
    boolean ending;

    Stream(Loop loop, HttpServerExchange exchange, HttpHandler proxy) {
      super(loop);
      this.exchange = exchange;
      this.proxy = proxy;
      this.connection = Http2Requests.connection(exchange);
    }

    void start() {
      st = state;
      setMethod(exchange.getRequestMethod());
      if (!writeRequest()) {
        proxy();
        return;
      }
      ByteBuffer out = loop.out;
      request = new byte[out.remaining()];
      out.get(out.position(), request);
      busy = true;
      start = ticker.read();
      loop.add(this);
      streams.increment();
      // the base of the retry budget, which Undertow's proxy spends on requests handed back
      st.route.budget().onRequest();
      dispatch(out, List.of());
    }

    /**
     * Writes the request the backend gets into loop.out (read mode); false when Undertow's proxy
     * should serve it: a head that does not fit, or one that would not be a valid HTTP/1.1 head as
     * it is (bytes outside ASCII in the target, CR, LF or NUL in a field, which Undertow's own
     * checks of HTTP/2 requests already refuse).
     */
    private boolean writeRequest() {
      HeaderMap headers = exchange.getRequestHeaders();
      // the target as sent (Undertow took the :path pseudo-header apart and out of the map)
      String path = exchange.getRequestURI();
      String query = exchange.getQueryString();
      if (path.isEmpty() || path.charAt(0) != '/' || !headers.contains(Headers.HOST)) {
        return false;
      }
      ByteBuffer out = loop.out;
      out.clear();
      try {
        for (int i = 0; i < method.length(); i++) {
          if (!Heads.tokenChar(method.byteAt(i))) {
            return false;
          }
        }
        method.appendTo(out);
        out.put((byte) ' ');
        if (!visibleAscii(path, out)) {
          return false;
        }
        if (!query.isEmpty()) {
          out.put((byte) '?');
          if (!visibleAscii(query, out)) {
            return false;
          }
        }
        out.put(REQUEST_LINE_END);
        String xff = null;
        int hostFrom = -1;
        int hostTo = -1;
        for (HeaderValues values : headers) {
          HttpString name = values.getHeaderName();
          if (name.byteAt(0) == ':' || STREAM_DROPPED.contains(name)) {
            continue;
          }
          if (name.equals(Headers.X_FORWARDED_FOR)) {
            xff = String.join(",", values);
            continue;
          }
          for (String value : values) {
            name.appendTo(out);
            out.put(COLON_SPACE);
            int from = out.position();
            if (!latin1(value, out)) {
              return false;
            }
            if (name.equals(Headers.HOST)) {
              hostFrom = from;
              hostTo = out.position();
            }
            out.put(CRLF);
          }
        }
        if (hostFrom < 0 || hostTo == hostFrom) {
          return false;
        }
        out.put(X_FORWARDED_FOR_LINE);
        if (xff != null && !xff.isEmpty()) {
          if (!latin1(xff, out)) {
            return false;
          }
          out.put((byte) ',');
        }
        out.put(Heads.ascii(exchange.getSourceAddress().getAddress().getHostAddress()));
        out.put(CRLF);
        forwarded(out, out, hostFrom, hostTo);
        out.put(CRLF);
      } catch (BufferOverflowException e) {
        // a head this large is rare: Undertow's client writes it
        return false;
      }
      out.flip();
      return true;
    }

    /** Undertow's proxy takes the stream, from the start. */
    private void proxy() {
      Connectors.executeRootHandler(proxy, exchange);
    }

    @Override
    void handBack() {
      busy = false;
      loop.remove(this);
      proxy();
    }

    @Override
    void answer(int code) {
      busy = false;
      loop.remove(this);
      responseStarted = true;
      status = code;
      // the lb's error page comes from the front handler's response listener
      exchange.setStatusCode(code);
      exchange.endExchange();
    }

    @Override
    void abort() {
      busy = false;
      loop.remove(this);
      // resets the stream (RST_STREAM CANCEL), not the connection
      IoUtils.safeClose(exchange.getConnection());
    }

    @Override
    void sweep(long now, long idleNanos) {
      if (!busy) {
        return;
      }
      if (!queued && now - start > st.settings.requestTimeoutNanos()) {
        timedOut();
      } else if (!exchange.getConnection().isOpen()) {
        cancel();
        loop.remove(this);
      }
    }

    @Override
    void statusLine(ByteBuffer src, int from, int lineEnd) {
      fields.clear();
    }

    @Override
    boolean dropped(ByteBuffer src, int line, int colon, int length) {
      // connection-specific fields are not allowed in HTTP/2 (RFC 9113, 8.2.2)
      return (length == 17 && Heads.equalsLower(src, line, colon, TRANSFER_ENCODING))
          || (length == 7 && Heads.equalsLower(src, line, colon, UPGRADE));
    }

    @Override
    boolean header(ByteBuffer src, int line, int colon, int v, int ve, int eol) {
      if (headStatus >= 200) {
        fields.add(HttpString.tryFromString(Heads.string(src, line, colon)));
        fields.add(Heads.string(src, v, ve));
      }
      return true;
    }

    @Override
    void headDone(boolean interim) {
      if (interim) {
        // HTTP/2 clients get the final response only
        return;
      }
      HeaderMap headers = exchange.getResponseHeaders();
      for (int i = 0; i < fields.size(); i += 2) {
        headers.add((HttpString) fields.get(i), (String) fields.get(i + 1));
      }
      fields.clear();
      exchange.setStatusCode(status);
    }

    @Override
    boolean interim() {
      return true;
    }

    @Override
    Heads.Data dechunked() {
      return this;
    }

    @Override
    boolean body(Backend b, ByteBuffer src, int from, int to, boolean headOut, boolean done) {
      if (b.mode != BODY_CHUNKED && to > from) {
        data(src, from, to);
      }
      if (!busy) {
        return false;
      }
      if (unsent != null) {
        return false;
      }
      if (!done) {
        // what came so far goes on now, not when Undertow's frame buffer is full
        try {
          if (channel != null && !channel.flush()) {
            unsent = ByteBuffer.allocate(0);
            channel.resumeWrites();
            return false;
          }
        } catch (IOException e) {
          clientFailed();
          return false;
        }
      }
      return true;
    }

    /** Body data for the response channel; what it does not take waits in {@link #unsent}. */
    @Override
    public void data(ByteBuffer src, int from, int to) {
      if (!busy) {
        return;
      }
      if (channel == null) {
        channel = exchange.getResponseChannel();
        channel.getWriteSetter().set(ch -> writable());
      }
      // the head and this data wait for the end of the turn too, else they go out at once
      loop.batch(connection);
      int position = src.position();
      int limit = src.limit();
      src.limit(to).position(from);
      try {
        if (unsent == null) {
          while (src.hasRemaining()) {
            if (channel.write(src) == 0) {
              break;
            }
          }
        }
        if (src.hasRemaining()) {
          unsent = append(unsent, src);
          channel.resumeWrites();
        }
      } catch (IOException e) {
        clientFailed();
      } finally {
        src.limit(limit).position(position);
      }
    }

    void writable() {
      try {
        if (!drain(unsent, channel)) {
          return;
        }
      } catch (IOException e) {
        clientFailed();
        return;
      }
      unsent = null;
      channel.suspendWrites();
      if (ending) {
        end();
      } else if (busy && backend != null) {
        backend.source.resumeReads();
      }
    }

    /** The client's stream or connection failed while the response was being written. */
    private void clientFailed() {
      cancel();
      ending = false;
      unsent = null;
      loop.remove(this);
      IoUtils.safeClose(exchange.getConnection());
    }

    @Override
    void finished(long nanos) {
      loop.remove(this);
      if (unsent == null) {
        end();
      } else {
        ending = true;
      }
    }

    /** Ends the exchange; its last frames go out with the connection's others of this turn. */
    private void end() {
      loop.batch(connection);
      exchange.endExchange();
    }
  }

  /** A connection to a backend: idle in its loop's pool, or serving one client's request. */
  private final class Backend {
    final Loop loop;
    final Upstream upstream;
    StreamConnection connection;
    ConduitStreamSourceChannel source;
    ConduitStreamSinkChannel sink;
    Request owner;
    boolean reused;
    boolean sent;
    boolean closed;

    /** Its place in the pool goes to the connection that replaces it, not back when it closes. */
    boolean keepsSlot;

    long idleSince;

    /** Request bytes the backend has not taken yet, read mode. */
    ByteBuffer unsent;

    // the response in flight
    boolean headDone;
    ByteBuffer head;
    int mode;
    long remaining;
    boolean reusable;
    final Heads.Chunked chunked = new Heads.Chunked();

    Backend(Loop loop, Upstream upstream) {
      this.loop = loop;
      this.upstream = upstream;
    }

    void attach(Request client, boolean reused) {
      owner = client;
      client.backend = this;
      this.reused = reused;
      sent = false;
      headDone = false;
      head = null;
      reusable = true;
    }

    void connected(StreamConnection c) {
      connection = c;
      source = c.getSourceChannel();
      sink = c.getSinkChannel();
      c.setCloseListener(x -> closed());
      source.getReadSetter().set(ch -> readable());
      sink.getWriteSetter().set(ch -> writable());
      source.resumeReads();
      if (closed) {
        IoUtils.safeClose(c);
        return;
      }
      if (owner != null) {
        send(ByteBuffer.wrap(owner.request));
      } else {
        release();
      }
    }

    void connectFailed(IOException e) {
      if (closed) {
        return;
      }
      closed = true;
      slots(upstream).open.decrementAndGet();
      loop.slotFreed(upstream);
      Request c = owner;
      owner = null;
      if (c == null || c.backend != this || !c.busy) {
        return;
      }
      c.backend = null;
      Upstream u = upstream;
      u.inFlight().decrementAndGet();
      meters.failed(u, "connect failed");
      log.atDebug()
          .addKeyValue("event", "lb.relay.connect_failed")
          .addKeyValue("backend", u.name())
          .log("connect to {} failed: {}", u.name(), e.toString());
      // Undertow's proxy retries it on another backend, or answers 502
      c.handBack();
    }

    void send(ByteBuffer bytes) {
      sent = true;
      try {
        while (bytes.hasRemaining()) {
          if (sink.write(bytes) == 0) {
            break;
          }
        }
        if (!bytes.hasRemaining() && sink.flush()) {
          return;
        }
      } catch (IOException e) {
        failed("write failed: " + e.getMessage());
        return;
      }
      unsent = bytes.hasRemaining() ? append(null, bytes) : ByteBuffer.allocate(0);
      sink.resumeWrites();
    }

    void writable() {
      try {
        if (!drain(unsent, sink)) {
          return;
        }
      } catch (IOException e) {
        failed("write failed: " + e.getMessage());
        return;
      }
      unsent = null;
      sink.suspendWrites();
    }

    void readable() {
      ByteBuffer in = loop.in;
      while (!closed) {
        in.clear();
        int n;
        try {
          n = source.read(in);
        } catch (IOException e) {
          failed("read failed: " + e.getMessage());
          return;
        }
        if (n == 0) {
          return;
        }
        if (n < 0) {
          ended();
          return;
        }
        in.flip();
        Request c = owner;
        if (c == null) {
          // an idle connection has nothing to say
          close();
          return;
        }
        if (!c.response(this, in) || n < BUFFER) {
          return;
        }
      }
    }

    /** The backend closed the connection. */
    private void ended() {
      Request c = owner;
      if (c != null && headDone && mode == BODY_UNTIL_CLOSE) {
        reusable = false;
        c.complete(this);
        return;
      }
      failed("closed by the backend");
    }

    private void failed(String reason) {
      Request c = owner;
      if (c != null) {
        c.backendFailed(this, reason);
      } else {
        close();
      }
    }

    /** To a request waiting for it, or back to the pool when it can serve another, else closed. */
    void release() {
      owner = null;
      if (!reusable || closed || unsent != null || !connection.isOpen()) {
        close();
        return;
      }
      Request waiter = loop.nextWaiting(upstream);
      if (waiter != null) {
        attach(waiter, true);
        send(ByteBuffer.wrap(waiter.request));
        return;
      }
      if (slots(upstream).waiting.get() > 0) {
        // a request waits on another IO thread: the slot goes there
        close();
        return;
      }
      idleSince = ticker.read();
      source.resumeReads();
      loop.idle.computeIfAbsent(upstream, x -> new ArrayDeque<>()).addLast(this);
    }

    void close() {
      owner = null;
      if (connection != null) {
        IoUtils.safeClose(connection);
      }
      closed();
    }

    void closed() {
      if (closed) {
        return;
      }
      closed = true;
      if (!keepsSlot) {
        slots(upstream).open.decrementAndGet();
      }
      ArrayDeque<Backend> q = loop.idle.get(upstream);
      if (q != null) {
        q.remove(this);
      }
      Request c = owner;
      owner = null;
      if (c != null && c.backend == this) {
        c.backendFailed(this, "connection closed");
      }
      if (!keepsSlot) {
        loop.slotFreed(upstream);
      }
    }
  }

  /**
   * Writes what remains of {@code unsent} (may be null) to {@code sink} and flushes it; false when
   * the sink has not taken it all yet.
   */
  private static boolean drain(ByteBuffer unsent, StreamSinkChannel sink) throws IOException {
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
  private static boolean visibleAscii(String s, ByteBuffer out) {
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
  private static boolean latin1(String s, ByteBuffer out) {
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
  private static ByteBuffer append(ByteBuffer a, ByteBuffer b) {
    int n = (a == null ? 0 : a.remaining()) + b.remaining();
    ByteBuffer r = ByteBuffer.allocate(n);
    if (a != null) {
      r.put(a);
    }
    r.put(b);
    return r.flip();
  }

  private static HttpString method(ByteBuffer b, int from, int to) {
    return switch (to - from) {
      case 3 -> is(b, from, "GET") ? Methods.GET : is(b, from, "PUT") ? Methods.PUT : null;
      case 4 -> is(b, from, "HEAD") ? Methods.HEAD : is(b, from, "POST") ? Methods.POST : null;
      case 5 -> is(b, from, "PATCH") ? Methods.PATCH : null;
      case 6 -> is(b, from, "DELETE") ? Methods.DELETE : null;
      case 7 -> is(b, from, "OPTIONS") ? Methods.OPTIONS : null;
      default -> null;
    };
  }

  private static boolean is(ByteBuffer b, int from, String s) {
    for (int i = 0; i < s.length(); i++) {
      if (b.get(from + i) != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
