package com.foobar.core;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.Optional;

/**
 * Times every request into {@link HttpMetrics} and, when the listener has one, writes its access
 * log line, both when the exchange completes.
 */
final class ObservingHandler implements HttpHandler {
  private final HttpMetrics metrics;
  private final Optional<AccessLog> accessLog;
  private final HttpHandler next;

  ObservingHandler(HttpMetrics metrics, Optional<AccessLog> accessLog, HttpHandler next) {
    this.metrics = metrics;
    this.accessLog = accessLog;
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    long start = System.nanoTime();
    exchange.addExchangeCompleteListener(
        (ex, nextListener) -> {
          try {
            long nanos = System.nanoTime() - start;
            metrics.record(ex, nanos);
            accessLog.ifPresent(log -> log.write(ex, nanos));
          } finally {
            nextListener.proceed();
          }
        });
    next.handleRequest(exchange);
  }
}
