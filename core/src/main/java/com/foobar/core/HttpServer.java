package com.foobar.core;

import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.Undertow;
import io.undertow.server.DelegateOpenListener;
import io.undertow.server.HttpHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.xnio.XnioWorker;

/**
 * The HTTP listeners of one role, on one Undertow instance. Every listener's chain starts with
 * {@link AccessControlHandler} (allow/deny, 403 before anything else; counts connections), then
 * {@link LimitsHandler} (414/431), then {@link ObservingHandler} (metrics, access log, in-flight
 * requests for draining), then the role's handler.
 *
 * <p>HTTPS listeners ({@link HttpServerBuilder#httpsListener}) apply {@link ServerTls}'s protocol
 * and cipher suite policy. Undertow's {@code ENABLE_HTTP2} is one switch for a whole instance and
 * would also offer h2c upgrades on plain listeners, so HTTPS listeners with HTTP/2 run on a second
 * Undertow instance that shares the first one's IO threads.
 *
 * <p>A listener with an accept-time concern ({@link HttpServerBuilder#connectionGuard}, {@link
 * HttpServerBuilder#proxyProtocol}) is opened by {@link Acceptor} on the first instance's IO
 * threads, with the open listeners Undertow would have built: its builder has no hook between the
 * accepting socket and the open listener.
 *
 * <p>Meters: {@code foobar.listener.refused} (peers refused by allow/deny), {@code
 * foobar.listener.connections} (open connections), {@code http.server.requests}; for HTTPS
 * listeners {@link TlsHandshakeMeters}' {@code foobar.tls.handshakes} and {@code
 * foobar.tls.handshake.failures}; all tagged with {@code listener}.
 */
public final class HttpServer {
  private final Undertow undertow;
  private final Optional<Undertow> h2;
  private final List<Acceptor> acceptors;
  private final List<Spec> specs;
  private final List<Bound> bound;
  private final List<ObservingHandler> observed;
  private final List<AccessLog> accessLogs;
  private final HttpLimits limits;
  private final List<LimitsHandler> limited;
  private final List<ListenerTap> taps;

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
  record Spec(
      String name,
      HostPort address,
      AccessRule rule,
      Optional<AccessLogConfig> accessLog,
      String defaultRoute,
      HttpHandler handler,
      Optional<Https> https) {}

  record Https(ServerTls tls, boolean requireClientCertificate, boolean http2) {}

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

  HttpServer(
      Undertow undertow,
      Optional<Undertow> h2,
      List<Acceptor> acceptors,
      List<Spec> specs,
      List<Bound> bound,
      List<ObservingHandler> observed,
      List<AccessLog> accessLogs,
      HttpLimits limits,
      List<LimitsHandler> limited,
      List<ListenerTap> taps) {
    this.undertow = undertow;
    this.h2 = h2;
    this.acceptors = acceptors;
    this.specs = specs;
    this.bound = bound;
    this.observed = observed;
    this.accessLogs = accessLogs;
    this.limits = limits;
    this.limited = limited;
    this.taps = taps;
  }

  /** Starts describing the listeners of one role. */
  public static HttpServerBuilder builder(HttpLimits limits, MeterRegistry registry) {
    return new HttpServerBuilder(limits, registry);
  }

  /**
   * Applies {@code next}'s request line and header limits ({@code max-uri-length}, {@code
   * max-header-size}, {@code max-headers}) to the requests that follow on every listener. The
   * timeouts and the parser's own bounds (twice the start values) are Undertow server options,
   * fixed until a restart; {@code max-body-size} is the role's to apply.
   *
   * @return the keys of {@code next} (e.g. {@code idle-timeout}) that take full effect only after a
   *     restart: changed timeouts, header limits raised beyond the parser's bounds, and a raised
   *     {@code max-body-size} (for chunked bodies)
   */
  public List<String> updateLimits(HttpLimits next) {
    limited.forEach(l -> l.update(next));
    taps.forEach(t -> t.update(next));
    List<String> restart = new ArrayList<>();
    long parserBytes = 2 * (limits.maxUriLength().bytes() + limits.maxHeaderSize().bytes());
    if (next.maxUriLength().bytes() + next.maxHeaderSize().bytes() > parserBytes) {
      if (next.maxUriLength().bytes() > limits.maxUriLength().bytes()) {
        restart.add("max-uri-length");
      }
      if (next.maxHeaderSize().bytes() > limits.maxHeaderSize().bytes()) {
        restart.add("max-header-size");
      }
    }
    if (next.maxHeaders() > 2 * limits.maxHeaders()) {
      restart.add("max-headers");
    }
    if (!next.requestHeaderTimeout().equals(limits.requestHeaderTimeout())) {
      restart.add("request-header-timeout");
    }
    if (!next.idleTimeout().equals(limits.idleTimeout())) {
      restart.add("idle-timeout");
    }
    if (next.maxBodySize().bytes() > limits.maxBodySize().bytes()) {
      // Undertow checks chunked bodies against a bound made from the start value
      restart.add("max-body-size");
    }
    return restart;
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
    // the HTTP/2 instance and the listeners opened by hand borrow the first one's IO threads:
    // they stop first
    acceptors.forEach(Acceptor::stopAccepting);
    h2.ifPresent(Undertow::stop);
    undertow.stop();
    acceptors.forEach(Acceptor::releaseBuffers);
    for (AccessLog log : accessLogs) {
      log.close();
    }
  }
}
