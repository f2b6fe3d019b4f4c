package com.foobar.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.DelegateOpenListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http.AlpnOpenListener;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.server.protocol.http2.Http2OpenListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.Option;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Sequence;
import org.xnio.SslClientAuthMode;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;
import org.xnio.ssl.SslConnection;

/**
 * The HTTP listeners of one role, on one Undertow instance. Every listener's chain starts with
 * {@link AccessControlHandler} (allow/deny, 403 before anything else; counts connections), then
 * {@link LimitsHandler} (414/431), then {@link ObservingHandler} (metrics, access log, in-flight
 * requests for draining), then the role's handler.
 *
 * <p>HTTPS listeners ({@link Builder#httpsListener}) apply {@link ServerTls}'s protocol and cipher
 * suite policy. Undertow's {@code ENABLE_HTTP2} is one switch for a whole instance and would also
 * offer h2c upgrades on plain listeners, so HTTPS listeners with HTTP/2 run on a second Undertow
 * instance that shares the first one's IO threads.
 *
 * <p>Meters: {@code foobar.listener.refused} (peers refused by allow/deny), {@code
 * foobar.listener.connections} (open connections), {@code http.server.requests}; all tagged with
 * {@code listener}.
 */
public final class HttpServer {
  private final Undertow undertow;
  private final Optional<Undertow> h2;
  private final List<Spec> specs;
  private final List<ObservingHandler> observed;
  private final List<AccessLog> accessLogs;
  private final List<AcceptingChannel<? extends StreamConnection>> ownChannels;
  private final List<Bound> bound;

  /**
   * An engine that takes the HTTP/1.1 connections of a listener from Undertow, for requests it can
   * serve faster, and hands a connection back (with the bytes it read) for everything else.
   */
  @FunctionalInterface
  public interface Takeover {
    /**
     * @param undertow Undertow's HTTP/1.1 handling of the listener, with its whole handler chain
     * @param tap what the engine reports for the requests it serves itself
     * @param worker the IO threads
     * @return the listener that receives the listener's HTTP/1.1 connections (after TLS and ALPN)
     */
    DelegateOpenListener create(DelegateOpenListener undertow, ListenerTap tap, XnioWorker worker);
  }

  /** One listener to open. */
  private record Spec(
      String name,
      HostPort address,
      AccessRule rule,
      Optional<AccessLogConfig> accessLog,
      String defaultRoute,
      HttpHandler handler,
      Optional<Https> https,
      Optional<Takeover> takeover) {
    Spec withTakeover(Takeover t) {
      return new Spec(name, address, rule, accessLog, defaultRoute, handler, https, Optional.of(t));
    }
  }

  private record Https(ServerTls tls, boolean requireClientCertificate, boolean http2) {}

  /**
   * A listener after binding: its name and the address it really listens on (port 0 resolved).
   *
   * @param tls whether it is an HTTPS listener
   */
  public record Bound(String name, HostPort address, boolean tls) {
    /** {@code http://host:port}, or {@code https://host:port} for an HTTPS listener. */
    public String url() {
      return address.url(tls ? "https" : "http");
    }
  }

  private HttpServer(
      Undertow undertow,
      Optional<Undertow> h2,
      List<Spec> specs,
      List<ObservingHandler> observed,
      List<AccessLog> accessLogs,
      List<AcceptingChannel<? extends StreamConnection>> ownChannels,
      List<Bound> bound) {
    this.undertow = undertow;
    this.h2 = h2;
    this.specs = specs;
    this.observed = observed;
    this.accessLogs = accessLogs;
    this.ownChannels = ownChannels;
    this.bound = bound;
  }

  /** Starts describing the listeners of one role. */
  public static Builder builder(HttpLimits limits, MeterRegistry registry) {
    return new Builder(limits, registry);
  }

  /** Collects listeners, then binds them all at once. */
  public static final class Builder {
    private final HttpLimits limits;
    private final MeterRegistry registry;
    private final List<Spec> specs = new ArrayList<>();

    private Builder(HttpLimits limits, MeterRegistry registry) {
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
    public Builder listener(
        String name,
        HostPort address,
        AccessRule rule,
        Optional<AccessLogConfig> accessLog,
        String defaultRoute,
        HttpHandler handler) {
      specs.add(
          new Spec(
              name,
              address,
              rule,
              accessLog,
              defaultRoute,
              handler,
              Optional.empty(),
              Optional.empty()));
      return this;
    }

    /**
     * Lets {@code takeover} receive the HTTP/1.1 connections of the listener added as {@code name}
     * (on an HTTPS listener: after the handshake, when ALPN chose HTTP/1.1 or nothing); HTTP/2
     * stays with Undertow.
     *
     * @throws IllegalArgumentException when no listener of that name was added
     */
    public Builder takeover(String name, Takeover takeover) {
      for (int i = 0; i < specs.size(); i++) {
        if (specs.get(i).name().equals(name)) {
          specs.set(i, specs.get(i).withTakeover(takeover));
          return this;
        }
      }
      throw new IllegalArgumentException("no listener " + name);
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
    public Builder httpsListener(
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
            "listener "
                + name
                + " requires client certificates but its ServerTls has no client CA");
      }
      specs.add(
          new Spec(
              name,
              address,
              rule,
              accessLog,
              defaultRoute,
              handler,
              Optional.of(new Https(tls, requireClientCertificate, http2)),
              Optional.empty()));
      return this;
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
      List<ObservingHandler> observed = new ArrayList<>();
      List<AccessLog> logs = new ArrayList<>();
      List<HttpHandler> roots = new ArrayList<>();
      List<ListenerTap> taps = new ArrayList<>();
      for (Spec s : specs) {
        Optional<AccessLog> log =
            s.accessLog().filter(AccessLogConfig::enabled).map(c -> new AccessLog(s.name(), c));
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
        HttpHandler root =
            new AccessControlHandler(s.rule(), refused, open, new LimitsHandler(limits, observing));
        roots.add(root);
        taps.add(new ListenerTap(s.name(), s.rule(), refused, open, observing, limits));
        if (s.takeover().isPresent()) {
          // bound below, on the IO threads of the instance
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
                .setSslContext(https.tls().sslContext())
                .setRootHandler(root)
                .setOverrideSocketOptions(sslOptions(https));
        if (https.http2()) {
          h2.addListener(l);
          anyH2 = true;
        } else {
          b.addListener(l);
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
      List<AcceptingChannel<? extends StreamConnection>> own = new ArrayList<>();
      try {
        for (int i = 0; i < specs.size(); i++) {
          Spec s = specs.get(i);
          if (s.takeover().isPresent()) {
            own.add(bindTakenOver(undertow.getWorker(), s, roots.get(i), taps.get(i)));
          }
        }
      } catch (IOException e) {
        stopAll(own, second, undertow);
        throw new UncheckedIOException(e);
      } catch (RuntimeException e) {
        stopAll(own, second, undertow);
        throw e;
      }
      List<Bound> bound = new ArrayList<>();
      List<Undertow.ListenerInfo> infos = undertow.getListenerInfo();
      List<Undertow.ListenerInfo> h2Infos = second.map(Undertow::getListenerInfo).orElse(List.of());
      int plain = 0;
      int secure = 0;
      int taken = 0;
      for (Spec s : specs) {
        SocketAddress address;
        if (s.takeover().isPresent()) {
          address = own.get(taken++).getLocalAddress();
        } else if (s.https().map(Https::http2).orElse(false)) {
          address = h2Infos.get(secure++).getAddress();
        } else {
          address = infos.get(plain++).getAddress();
        }
        bound.add(
            new Bound(
                s.name(),
                new HostPort(s.address().host(), ((InetSocketAddress) address).getPort()),
                s.https().isPresent()));
      }
      return new HttpServer(
          undertow,
          second,
          List.copyOf(specs),
          observed,
          logs,
          List.copyOf(own),
          List.copyOf(bound));
    }

    private static void stopAll(
        List<AcceptingChannel<? extends StreamConnection>> own,
        Optional<Undertow> second,
        Undertow undertow) {
      own.forEach(IoUtils::safeClose);
      second.ifPresent(Undertow::stop);
      undertow.stop();
    }

    /**
     * Binds a listener whose HTTP/1.1 connections go to its {@link Takeover}, the way {@code
     * Undertow.start()} binds one, on {@code worker}.
     */
    private AcceptingChannel<? extends StreamConnection> bindTakenOver(
        XnioWorker worker, Spec s, HttpHandler root, ListenerTap tap) throws IOException {
      OptionMap options =
          OptionMap.builder()
              .set(UndertowOptions.BUFFER_PIPELINED_DATA, true)
              .addAll(undertowOptions())
              .getMap();
      ByteBufferPool buffers = new DefaultByteBufferPool(true, 16 * 1024 - 20, -1, 4);
      HttpOpenListener http = new HttpOpenListener(buffers, options);
      http.setRootHandler(root);
      DelegateOpenListener h1 = s.takeover().get().create(http, tap, worker);
      InetSocketAddress address = new InetSocketAddress(s.address().host(), s.address().port());
      OptionMap socket =
          OptionMap.builder()
              .set(Options.TCP_NODELAY, true)
              .set(Options.REUSE_ADDRESSES, true)
              .set(Options.BACKLOG, 1024)
              .getMap();
      if (s.https().isEmpty()) {
        AcceptingChannel<StreamConnection> server =
            worker.createStreamConnectionServer(
                address, ChannelListeners.openListenerAdapter(h1), socket);
        server.resumeAccepts();
        return server;
      }
      Https https = s.https().get();
      ChannelListener<StreamConnection> open = h1;
      if (https.http2()) {
        OptionMap h2Options =
            OptionMap.builder().addAll(options).set(UndertowOptions.ENABLE_HTTP2, true).getMap();
        AlpnOpenListener alpn = new AlpnOpenListener(buffers, h2Options, h1);
        Http2OpenListener h2 = new Http2OpenListener(buffers, h2Options);
        h2.setRootHandler(root);
        alpn.addProtocol(Http2OpenListener.HTTP2, h2, 10);
        open = alpn;
      }
      UndertowXnioSsl ssl =
          new UndertowXnioSsl(
              worker.getXnio(),
              OptionMap.create(Options.USE_DIRECT_BUFFERS, true),
              https.tls().sslContext());
      AcceptingChannel<SslConnection> server =
          ssl.createSslConnectionServer(
              worker,
              address,
              ChannelListeners.openListenerAdapter(open),
              OptionMap.builder().addAll(socket).addAll(sslOptions(https)).getMap());
      server.resumeAccepts();
      return server;
    }

    private static OptionMap sslOptions(Https https) {
      return OptionMap.builder()
          .set(Options.SSL_ENABLED_PROTOCOLS, Sequence.of(https.tls().protocols()))
          .set(Options.SSL_ENABLED_CIPHER_SUITES, Sequence.of(https.tls().cipherSuites()))
          .set(
              Options.SSL_CLIENT_AUTH_MODE,
              https.requireClientCertificate()
                  ? SslClientAuthMode.REQUIRED
                  : SslClientAuthMode.NOT_REQUESTED)
          .getMap();
    }

    private OptionMap undertowOptions() {
      int headerBytes = 2 * (limits.maxUriLength().intBytes() + limits.maxHeaderSize().intBytes());
      return OptionMap.builder()
          .set(UndertowOptions.MAX_HEADER_SIZE, headerBytes)
          .set(UndertowOptions.MAX_HEADERS, 2 * limits.maxHeaders())
          .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, millis(limits.requestHeaderTimeout()))
          .set(UndertowOptions.NO_REQUEST_TIMEOUT, millis(limits.idleTimeout()))
          .set(UndertowOptions.IDLE_TIMEOUT, millis(limits.idleTimeout()))
          // HTTP/1.1 keeps connections alive without saying so
          .set(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
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

    private static int millis(Duration d) {
      return Math.toIntExact(d.toMillis());
    }
  }

  /** The listeners as bound, in the order they were added. */
  public List<Bound> listeners() {
    return bound;
  }

  /** The bound address of the listener called {@code name}. */
  public HostPort address(String name) {
    return listeners().stream()
        .filter(l -> l.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no listener " + name))
        .address();
  }

  /**
   * Drains the listeners named: requests already in flight finish (within {@code timeout}), new
   * requests get 503, and every response from now on carries {@code Connection: close}. The
   * listening sockets stay open until {@link #stop()}: Undertow's {@code ListenerInfo.suspend()}
   * would also close the connections of in-flight requests.
   *
   * @return whether every in-flight request finished in time
   */
  public boolean drain(List<String> names, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean all = true;
    for (int i = 0; i < specs.size(); i++) {
      if (names.contains(specs.get(i).name())) {
        // ListenerInfo.suspend() would close open connections, in-flight requests included: the
        // socket stays open and new requests get 503 with Connection: close until stop()
        all &= observed.get(i).drain(deadline);
      }
    }
    return all;
  }

  /** Closes every listener and connection at once, then flushes the access logs. */
  public void stop() throws InterruptedException {
    // the HTTP/2 instance and the taken-over listeners borrow the first one's IO threads
    ownChannels.forEach(IoUtils::safeClose);
    h2.ifPresent(Undertow::stop);
    undertow.stop();
    for (AccessLog log : accessLogs) {
      log.close();
    }
  }
}
