package com.foobar.lb;

import com.foobar.core.AccessRule;
import com.foobar.core.HostPort;
import com.foobar.core.HttpLimits;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.StatusCodes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.xnio.Options;

/**
 * The public HTTPS listener (HTTP/2 and HTTP/1.1 by ALPN) with allow/deny, the listener limits and
 * draining. Stands in for core {@code HttpServer}'s HTTPS variant until that exists: {@link
 * LoadBalancer} uses this class in one place, so switching is one edit.
 */
final class TlsListener {
  private final Undertow undertow;
  private final HostPort address;
  private final AtomicInteger inFlight;
  private final Gate gate;

  private TlsListener(Undertow undertow, HostPort address, AtomicInteger inFlight, Gate gate) {
    this.undertow = undertow;
    this.address = address;
    this.inFlight = inFlight;
    this.gate = gate;
  }

  static TlsListener start(
      HostPort address, SSLContext tls, HttpLimits limits, AccessRule rule, HttpHandler handler) {
    AtomicInteger inFlight = new AtomicInteger();
    Gate gate = new Gate(rule, inFlight, handler);
    int headerBytes = 2 * (limits.maxUriLength().intBytes() + limits.maxHeaderSize().intBytes());
    Undertow undertow =
        Undertow.builder()
            .setIoThreads(Runtime.getRuntime().availableProcessors())
            .setServerOption(UndertowOptions.ENABLE_HTTP2, true)
            .setServerOption(UndertowOptions.MAX_HEADER_SIZE, headerBytes)
            .setServerOption(UndertowOptions.MAX_HEADERS, 2 * limits.maxHeaders())
            .setServerOption(
                UndertowOptions.REQUEST_PARSE_TIMEOUT, millis(limits.requestHeaderTimeout()))
            .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, millis(limits.idleTimeout()))
            .setServerOption(UndertowOptions.IDLE_TIMEOUT, millis(limits.idleTimeout()))
            .setServerOption(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
            .setSocketOption(Options.REUSE_ADDRESSES, true)
            .setSocketOption(Options.BACKLOG, 1024)
            .addHttpsListener(address.port(), address.host(), tls, gate)
            .build();
    undertow.start();
    InetSocketAddress bound = (InetSocketAddress) undertow.getListenerInfo().get(0).getAddress();
    return new TlsListener(undertow, new HostPort(address.host(), bound.getPort()), inFlight, gate);
  }

  private static int millis(Duration d) {
    return Math.toIntExact(d.toMillis());
  }

  HostPort address() {
    return address;
  }

  /** New requests get 503 and {@code Connection: close}; waits for those in flight. */
  boolean drain(long deadlineNanos) throws InterruptedException {
    gate.draining = true;
    while (inFlight.get() > 0) {
      if (System.nanoTime() - deadlineNanos >= 0) {
        return false;
      }
      // a bounded poll: drain happens once per process life
      TimeUnit.MILLISECONDS.sleep(10);
    }
    return true;
  }

  void stop() {
    undertow.stop();
  }

  private static final class Gate implements HttpHandler {
    private final AccessRule rule;
    private final AtomicInteger inFlight;
    private final HttpHandler next;
    private volatile boolean draining;

    Gate(AccessRule rule, AtomicInteger inFlight, HttpHandler next) {
      this.rule = rule;
      this.inFlight = inFlight;
      this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
      InetSocketAddress peer = exchange.getSourceAddress();
      if (peer == null || !rule.admits(peer.getAddress())) {
        exchange.setPersistent(false);
        exchange.setStatusCode(StatusCodes.FORBIDDEN);
        exchange.endExchange();
        return;
      }
      inFlight.incrementAndGet();
      exchange.addExchangeCompleteListener(
          (ex, nextListener) -> {
            inFlight.decrementAndGet();
            nextListener.proceed();
          });
      if (draining) {
        exchange.setPersistent(false);
        exchange.setStatusCode(StatusCodes.SERVICE_UNAVAILABLE);
        exchange.endExchange();
        return;
      }
      next.handleRequest(exchange);
    }
  }
}
