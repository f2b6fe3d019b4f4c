package com.foobar.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.xnio.Options;

/**
 * The HTTP listeners of one role, on one Undertow instance. Every listener's chain starts with
 * {@link AccessControlHandler} (allow/deny, 403 before anything else; counts connections), then
 * {@link LimitsHandler} (414/431), then {@link ObservingHandler} (metrics, access log, in-flight
 * requests for draining), then the role's handler.
 *
 * <p>Meters: {@code foobar.listener.refused} (peers refused by allow/deny), {@code
 * foobar.listener.connections} (open connections), {@code http.server.requests}; all tagged with
 * {@code listener}.
 */
public final class HttpServer {
  private final Undertow undertow;
  private final List<Spec> specs;
  private final List<ObservingHandler> observed;
  private final List<AccessLog> accessLogs;

  /** One listener to open. */
  private record Spec(
      String name,
      HostPort address,
      AccessRule rule,
      Optional<AccessLogConfig> accessLog,
      String defaultRoute,
      HttpHandler handler) {}

  /** A listener after binding: its name and the URL it really listens on (port 0 resolved). */
  public record Bound(String name, HostPort address) {
    /** {@code http://host:port}. */
    public String url() {
      return address.url("http");
    }
  }

  private HttpServer(
      Undertow undertow,
      List<Spec> specs,
      List<ObservingHandler> observed,
      List<AccessLog> accessLogs) {
    this.undertow = undertow;
    this.specs = specs;
    this.observed = observed;
    this.accessLogs = accessLogs;
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
      specs.add(new Spec(name, address, rule, accessLog, defaultRoute, handler));
      return this;
    }

    /**
     * Binds every listener and starts serving.
     *
     * @throws RuntimeException from Undertow when an address cannot be bound
     */
    public HttpServer start() {
      int headerBytes = 2 * (limits.maxUriLength().intBytes() + limits.maxHeaderSize().intBytes());
      Undertow.Builder b =
          Undertow.builder()
              // Undertow's default is at least 2; one per core the process may use (taskset,
              // container limits) avoids two IO threads fighting over one core
              .setIoThreads(Runtime.getRuntime().availableProcessors())
              .setServerOption(UndertowOptions.MAX_HEADER_SIZE, headerBytes)
              .setServerOption(UndertowOptions.MAX_HEADERS, 2 * limits.maxHeaders())
              .setServerOption(
                  UndertowOptions.REQUEST_PARSE_TIMEOUT, millis(limits.requestHeaderTimeout()))
              .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, millis(limits.idleTimeout()))
              .setServerOption(UndertowOptions.IDLE_TIMEOUT, millis(limits.idleTimeout()))
              // HTTP/1.1 keeps connections alive without saying so
              .setServerOption(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
              .setSocketOption(Options.REUSE_ADDRESSES, true)
              .setSocketOption(Options.BACKLOG, 1024);
      List<ObservingHandler> observed = new ArrayList<>();
      List<AccessLog> logs = new ArrayList<>();
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
        b.addHttpListener(
            s.address().port(),
            s.address().host(),
            new AccessControlHandler(
                s.rule(), refused, open, new LimitsHandler(limits, observing)));
      }
      Undertow undertow = b.build();
      undertow.start();
      HttpServer server = new HttpServer(undertow, List.copyOf(specs), observed, logs);
      return server;
    }

    private static int millis(Duration d) {
      return Math.toIntExact(d.toMillis());
    }
  }

  /** The listeners as bound, in the order they were added. */
  public List<Bound> listeners() {
    List<Bound> bound = new ArrayList<>();
    List<Undertow.ListenerInfo> infos = undertow.getListenerInfo();
    for (int i = 0; i < specs.size(); i++) {
      InetSocketAddress a = (InetSocketAddress) infos.get(i).getAddress();
      bound.add(
          new Bound(specs.get(i).name(), new HostPort(specs.get(i).address().host(), a.getPort())));
    }
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
    undertow.stop();
    for (AccessLog log : accessLogs) {
      log.close();
    }
  }
}
