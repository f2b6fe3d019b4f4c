package com.foobar.core;

import com.foobar.core.HttpServer.Bound;
import com.foobar.core.HttpServer.Https;
import com.foobar.core.HttpServer.Spec;
import com.foobar.core.HttpServer.Takeover;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.DelegateOpenListener;
import io.undertow.server.HttpHandler;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import org.xnio.Option;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Sequence;
import org.xnio.SslClientAuthMode;
import org.xnio.XnioWorker;

/**
 * Collects the listeners of one role ({@link HttpServer#builder}), then binds them all at once.
 * Plain and HTTPS listeners without HTTP/2 go on one Undertow instance, HTTPS listeners with HTTP/2
 * on a second one sharing its IO threads; listeners with an accept-time concern ({@link
 * #connectionGuard}, {@link #proxyProtocol}, {@link #takeover}) are opened by {@link Acceptor}.
 */
public final class HttpServerBuilder {
  private final HttpLimits limits;
  private final MeterRegistry registry;
  private final List<Spec> specs = new ArrayList<>();
  private final Map<String, ConnectionGuard> guards = new HashMap<>();
  private final Map<String, List<Cidr>> proxyProtocol = new HashMap<>();
  private final Map<String, Takeover> takeovers = new HashMap<>();
  private boolean bodiesCountedByHandlers;

  /**
   * How far over {@code max-body-size} Undertow's own check of a chunked body lets it go: the
   * handlers count bodies themselves and answer 413 at the limit, which one read of theirs (a
   * buffer) cannot carry past this margin as well.
   */
  static final long BODY_CHECK_MARGIN = 1 << 20;

  HttpServerBuilder(HttpLimits limits, MeterRegistry registry) {
    this.limits = limits;
    this.registry = registry;
  }

  /**
   * Adds a listener.
   *
   * @param name the listener's name in logs and meters, e.g. {@code backend} or {@code
   *     backend-admin}
   * @param address where to bind
   * @param rule who may connect
   * @param accessLog where its access log goes; empty for none
   * @param defaultRoute the {@code route} tag of requests whose handler names none
   * @param handler the role's handler
   */
  public HttpServerBuilder listener(
      String name,
      HostPort address,
      AccessRule rule,
      Optional<AccessLogConfig> accessLog,
      String defaultRoute,
      HttpHandler handler) {
    specs.add(new Spec(name, address, rule, accessLog, defaultRoute, handler, Optional.empty()));
    return this;
  }

  /**
   * Adds an HTTPS listener: as {@link #listener}, behind TLS with {@code tls}'s certificates and
   * policy (TLS 1.3/1.2, forward-secret AEAD suites).
   *
   * @param requireClientCertificate whether a client without a certificate that chains to {@code
   *     tls}'s client CA is refused during the handshake
   * @param http2 whether HTTP/2 is offered by ALPN (the JDK's) next to HTTP/1.1; h2c is never
   *     offered
   * @throws IllegalArgumentException when a client certificate is required but {@code tls} has no
   *     client CA
   */
  public HttpServerBuilder httpsListener(
      String name,
      HostPort address,
      AccessRule rule,
      Optional<AccessLogConfig> accessLog,
      String defaultRoute,
      HttpHandler handler,
      ServerTls tls,
      boolean requireClientCertificate,
      boolean http2) {
    if (requireClientCertificate && !tls.verifiesClients()) {
      throw new IllegalArgumentException(
          "listener " + name + " requires client certificates but its ServerTls has no client CA");
    }
    specs.add(
        new Spec(
            name,
            address,
            rule,
            accessLog,
            defaultRoute,
            handler,
            Optional.of(new Https(tls, requireClientCertificate, http2))));
    return this;
  }

  /**
   * Caps the connections of the listener called {@code name} when they are accepted: before TLS,
   * before a PROXY header, before Undertow reads a byte ({@link ConnectionGuard#wrap}).
   *
   * @throws IllegalArgumentException when no listener of that name was added
   */
  public HttpServerBuilder connectionGuard(String name, ConnectionGuard guard) {
    guards.put(added(name), guard);
    return this;
  }

  /**
   * The listener called {@code name} expects a PROXY protocol header (v1 or v2) on every connection
   * from {@code trustedProxies} and serves it as coming from the header's source address;
   * connections from other peers are served as they come ({@link ClientAddress#proxyProtocol}).
   *
   * @throws IllegalArgumentException when no listener of that name was added
   */
  public HttpServerBuilder proxyProtocol(String name, List<Cidr> trustedProxies) {
    proxyProtocol.put(added(name), List.copyOf(trustedProxies));
    return this;
  }

  /**
   * Lets {@code takeover} receive the HTTP/1.1 connections of the listener called {@code name} (on
   * an HTTPS listener: after the handshake, when ALPN chose HTTP/1.1 or nothing); HTTP/2 stays with
   * Undertow.
   *
   * @throws IllegalArgumentException when no listener of that name was added
   */
  public HttpServerBuilder takeover(String name, Takeover takeover) {
    takeovers.put(added(name), takeover);
    return this;
  }

  /**
   * The handlers count request bodies as they forward them and may read up to twice {@code
   * max-body-size} (the lb's {@link ProxiedBody}: the limit, then as much again to drop), so
   * Undertow's own check of a chunked body stops only what goes past that (and past {@link
   * #BODY_CHECK_MARGIN}): a body behind an answer that does not read it (429, 403), which Undertow
   * reads off the connection to keep it, included.
   */
  public HttpServerBuilder bodiesCountedByHandlers() {
    bodiesCountedByHandlers = true;
    return this;
  }

  private String added(String name) {
    if (specs.stream().noneMatch(s -> s.name().equals(name))) {
      throw new IllegalArgumentException("no listener " + name);
    }
    return name;
  }

  /**
   * Binds every listener and starts serving.
   *
   * @throws RuntimeException from Undertow when an address cannot be bound
   */
  public HttpServer start() {
    Undertow.Builder b = undertow();
    Undertow.Builder h2 = undertow().setServerOption(UndertowOptions.ENABLE_HTTP2, true);
    boolean anyH2 = false;
    Map<String, HttpHandler> byHand = new HashMap<>();
    Map<String, ListenerTap> taps = new HashMap<>();
    List<ObservingHandler> observed = new ArrayList<>();
    List<AccessLog> logs = new ArrayList<>();
    List<LimitsHandler> limited = new ArrayList<>();
    List<ListenerTap> tapped = new ArrayList<>();
    for (Spec s : specs) {
      Optional<AccessLog> log =
          s.accessLog()
              .filter(AccessLogConfig::enabled)
              .map(c -> new AccessLog(s.name(), c, registry));
      log.ifPresent(logs::add);
      ObservingHandler observing =
          new ObservingHandler(
              new HttpMetrics(registry, s.name(), s.defaultRoute()), log, s.handler());
      observed.add(observing);
      Counter refused =
          Counter.builder("foobar.listener.refused")
              .description("Connections refused by the listener's allow/deny lists")
              .tag("listener", s.name())
              .register(registry);
      AtomicLong open = new AtomicLong();
      Gauge.builder("foobar.listener.connections", open, AtomicLong::get)
          .description("Open connections of the listener that have sent a request")
          .tag("listener", s.name())
          .register(registry);
      LimitsHandler limitsHandler = new LimitsHandler(limits, observing);
      limited.add(limitsHandler);
      HttpHandler root = new AccessControlHandler(s.rule(), refused, open, limitsHandler);
      ListenerTap tap = new ListenerTap(s.name(), s.rule(), open, observing, limits);
      taps.put(s.name(), tap);
      tapped.add(tap);
      if (guards.containsKey(s.name())
          || proxyProtocol.containsKey(s.name())
          || takeovers.containsKey(s.name())) {
        byHand.put(s.name(), root);
        continue;
      }
      if (s.https().isEmpty()) {
        b.addHttpListener(s.address().port(), s.address().host(), root);
        continue;
      }
      Https https = s.https().get();
      Undertow.ListenerBuilder l =
          new Undertow.ListenerBuilder()
              .setType(Undertow.ListenerType.HTTPS)
              .setHost(s.address().host())
              .setPort(s.address().port())
              .setSslContext(meteredContext(s.name(), https))
              .setRootHandler(root)
              .setOverrideSocketOptions(sslOptions(https));
      if (https.http2()) {
        h2.addListener(l);
        anyH2 = true;
      } else {
        b.addListener(l);
      }
    }
    for (Spec s : specs) {
      if (!byHand.containsKey(s.name())) {
        ListenException.checkFree(s.name(), s.address());
      }
    }
    Undertow undertow = b.build();
    undertow.start();
    Optional<Undertow> second = Optional.empty();
    if (anyH2) {
      Undertow u = h2.setWorker(undertow.getWorker()).build();
      try {
        u.start();
      } catch (RuntimeException e) {
        undertow.stop();
        throw e;
      }
      second = Optional.of(u);
    }
    Map<String, Acceptor> acceptors = new LinkedHashMap<>();
    try {
      for (Spec s : specs) {
        HttpHandler root = byHand.get(s.name());
        if (root != null) {
          acceptors.put(s.name(), acceptor(undertow, s, root, taps.get(s.name())));
        }
      }
    } catch (RuntimeException e) {
      acceptors.values().forEach(Acceptor::stopAccepting);
      second.ifPresent(Undertow::stop);
      undertow.stop();
      acceptors.values().forEach(Acceptor::releaseBuffers);
      throw e;
    }
    return new HttpServer(
        undertow,
        second,
        List.copyOf(acceptors.values()),
        List.copyOf(specs),
        bound(undertow, second, acceptors),
        observed,
        logs,
        limits,
        List.copyOf(limited),
        List.copyOf(tapped));
  }

  private Acceptor acceptor(Undertow undertow, Spec s, HttpHandler root, ListenerTap tap) {
    XnioWorker worker = undertow.getWorker();
    Takeover takeover = takeovers.get(s.name());
    UnaryOperator<DelegateOpenListener> h1 =
        takeover == null ? UnaryOperator.identity() : http -> takeover.create(http, tap, worker);
    Optional<Acceptor.Tls> tls =
        s.https()
            .map(
                https ->
                    new Acceptor.Tls(
                        meteredContext(s.name(), https), sslOptions(https), https.http2()));
    Acceptor.Gates gates =
        new Acceptor.Gates(
            Optional.ofNullable(guards.get(s.name())),
            Optional.ofNullable(proxyProtocol.get(s.name())));
    try {
      return Acceptor.open(worker, undertowOptions(), s.address(), root, tls, gates, h1);
    } catch (UncheckedIOException e) {
      throw new ListenException(s.name(), s.address(), e.getCause());
    }
  }

  /** The listeners as bound, in the order they were added. */
  private List<Bound> bound(
      Undertow undertow, Optional<Undertow> h2, Map<String, Acceptor> byHand) {
    Iterator<Undertow.ListenerInfo> plain = undertow.getListenerInfo().iterator();
    Iterator<Undertow.ListenerInfo> secure =
        h2.map(Undertow::getListenerInfo).orElse(List.of()).iterator();
    List<Bound> bound = new ArrayList<>();
    for (Spec s : specs) {
      InetSocketAddress a;
      if (byHand.containsKey(s.name())) {
        a = byHand.get(s.name()).address();
      } else {
        boolean onH2 = s.https().map(Https::http2).orElse(false);
        a = (InetSocketAddress) (onH2 ? secure : plain).next().getAddress();
      }
      bound.add(
          new Bound(
              s.name(), new HostPort(s.address().host(), a.getPort()), s.https().isPresent()));
    }
    return List.copyOf(bound);
  }

  private SSLContext meteredContext(String listener, Https https) {
    return new TlsHandshakeMeters(registry, listener).wrap(https.tls().sslContext());
  }

  private static OptionMap sslOptions(Https https) {
    OptionMap.Builder b = OptionMap.builder();
    if (!https.tls().policyInContext()) {
      b.set(Options.SSL_ENABLED_PROTOCOLS, Sequence.of(https.tls().protocols()))
          .set(Options.SSL_ENABLED_CIPHER_SUITES, Sequence.of(https.tls().cipherSuites()));
    }
    return b.set(
            Options.SSL_CLIENT_AUTH_MODE,
            https.requireClientCertificate()
                ? SslClientAuthMode.REQUIRED
                : SslClientAuthMode.NOT_REQUESTED)
        .getMap();
  }

  private Undertow.Builder undertow() {
    Undertow.Builder b =
        Undertow.builder()
            // Undertow's default is at least 2; one per core the process may use (taskset,
            // container limits) avoids two IO threads fighting over one core
            .setIoThreads(Runtime.getRuntime().availableProcessors())
            .setSocketOption(Options.REUSE_ADDRESSES, true)
            .setSocketOption(Options.BACKLOG, 1024);
    OptionMap options = undertowOptions();
    for (Option<?> o : options) {
      setServerOption(b, o, options);
    }
    return b;
  }

  private static <T> void setServerOption(Undertow.Builder b, Option<T> o, OptionMap options) {
    b.setServerOption(o, options.get(o));
  }

  /**
   * Undertow's options of every listener: {@link #limits}. Undertow checks a chunked HTTP/1.1 body
   * against the limit the listener had when the request arrived ({@code setMaxEntitySize} later
   * does not reach that check), 10 MiB unless set here: a larger {@code max-body-size} would have
   * such bodies cut off at 10 MiB, and a smaller one would let a body its handler does not count (a
   * proxied one) through up to 10 MiB instead of {@link #BODY_CHECK_MARGIN} over the limit.
   */
  private OptionMap undertowOptions() {
    int headerBytes = 2 * (limits.maxUriLength().intBytes() + limits.maxHeaderSize().intBytes());
    long maxBody = limits.maxBodySize().bytes();
    long maxEntity = (bodiesCountedByHandlers ? 2 * maxBody : maxBody) + BODY_CHECK_MARGIN;
    return OptionMap.builder()
        .set(UndertowOptions.MAX_ENTITY_SIZE, maxEntity)
        .set(UndertowOptions.MAX_HEADER_SIZE, headerBytes)
        .set(UndertowOptions.MAX_HEADERS, 2 * limits.maxHeaders())
        .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, millis(limits.requestHeaderTimeout()))
        .set(UndertowOptions.NO_REQUEST_TIMEOUT, millis(limits.idleTimeout()))
        .set(UndertowOptions.IDLE_TIMEOUT, millis(limits.idleTimeout()))
        // HTTP/1.1 keeps connections alive without saying so
        .set(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
        .getMap();
  }

  private static int millis(Duration d) {
    return Math.toIntExact(d.toMillis());
  }
}
