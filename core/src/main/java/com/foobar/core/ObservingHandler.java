package com.foobar.core;

import io.undertow.server.ExchangeCompletionListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.StatusCodes;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Times every request into {@link HttpMetrics}, writes its access log line when the listener has
 * one, and counts requests in flight so that {@link #drain} can wait for them: all in one
 * completion listener per request, because this runs for every request of the site.
 *
 * <p>Once draining, new requests get 503 and every response carries {@code Connection: close}.
 */
final class ObservingHandler implements HttpHandler {
  private final HttpMetrics metrics;
  private final Optional<AccessLog> accessLog;
  private final HttpHandler next;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object drained = new Object();
  private volatile boolean draining;

  ObservingHandler(HttpMetrics metrics, Optional<AccessLog> accessLog, HttpHandler next) {
    this.metrics = metrics;
    this.accessLog = accessLog;
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    exchange.addExchangeCompleteListener(new Completion(System.nanoTime()));
    inFlight.incrementAndGet();
    if (draining) {
      exchange.setPersistent(false);
      exchange.setStatusCode(StatusCodes.SERVICE_UNAVAILABLE);
      exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
      exchange.getResponseSender().send("503 Service Unavailable: shutting down\n");
      return;
    }
    next.handleRequest(exchange);
  }

  boolean draining() {
    return draining;
  }

  /** A request served outside this handler (see {@link ListenerTap}) started. */
  void begin() {
    inFlight.incrementAndGet();
  }

  /** A request that {@link #begin} counted ended. */
  void end(HttpString method, int status, long nanos) {
    try {
      metrics.record(HttpMetrics.ROUTE_UNNAMED, method, status, nanos);
    } finally {
      ended();
    }
  }

  /** Whether the listener writes an access log. */
  boolean logsAccess() {
    return accessLog.isPresent();
  }

  /** Writes the access line of a request served outside this handler, if the listener logs. */
  void access(AccessEntry entry) {
    if (accessLog.isPresent()) {
      accessLog.get().write(entry);
    }
  }

  /** A request that {@link #begin} counted is not served outside after all. */
  void cancel() {
    ended();
  }

  private void ended() {
    if (inFlight.decrementAndGet() == 0 && draining) {
      synchronized (drained) {
        drained.notifyAll();
      }
    }
  }

  /**
   * Refuses new requests from now on and waits for those in flight.
   *
   * @return whether none was left in flight before {@code deadlineNanos} ({@link System#nanoTime})
   */
  boolean drain(long deadlineNanos) throws InterruptedException {
    draining = true;
    synchronized (drained) {
      while (inFlight.get() > 0) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(drained, left);
      }
    }
    return true;
  }

  private final class Completion implements ExchangeCompletionListener {
    private final long start;

    Completion(long start) {
      this.start = start;
    }

    @Override
    public void exchangeEvent(HttpServerExchange exchange, NextListener nextListener) {
      try {
        long nanos = System.nanoTime() - start;
        metrics.record(exchange, nanos);
        if (accessLog.isPresent()) {
          accessLog.get().write(exchange, nanos);
        }
      } finally {
        ended();
        nextListener.proceed();
      }
    }
  }
}
