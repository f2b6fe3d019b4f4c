package com.foobar.core;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import io.undertow.util.StatusCodes;

/**
 * The admin routes every role serves: {@code GET /health} (liveness: the process answers), {@code
 * GET /ready} (200 when {@link Readiness} says ready, else 503 with the state) and {@code GET
 * /metrics} (Prometheus text). Other paths get 404; other methods 405.
 */
public final class AdminHandler implements HttpHandler {
  private final Readiness readiness;
  private final Metrics metrics;
  private final HttpHandler fallback;

  private AdminHandler(Readiness readiness, Metrics metrics, HttpHandler fallback) {
    this.readiness = readiness;
    this.metrics = metrics;
    this.fallback = fallback;
  }

  /** The admin routes; {@code fallback} serves the paths they do not know (a role's extras). */
  public static AdminHandler create(Readiness readiness, Metrics metrics, HttpHandler fallback) {
    return new AdminHandler(readiness, metrics, fallback);
  }

  /**
   * {@code GET /ready} answered from {@code readiness} in front of {@code next}, for a role's
   * public listener: the lb's health checks ({@code lb.health.path}) reach a backend's site
   * listener, and a draining backend answers 503 there too. Every other path goes to {@code next}.
   */
  public static HttpHandler readinessProbe(Readiness readiness, HttpHandler next) {
    return exchange -> {
      boolean readOnly =
          exchange.getRequestMethod().equals(Methods.GET)
              || exchange.getRequestMethod().equals(Methods.HEAD);
      if (exchange.getRelativePath().equals("/ready") && readOnly) {
        exchange.putAttachment(HttpMetrics.ROUTE, "/ready");
        ready(exchange, readiness);
      } else {
        next.handleRequest(exchange);
      }
    };
  }

  /** The admin routes alone; unknown paths get 404. */
  public static AdminHandler create(Readiness readiness, Metrics metrics) {
    return new AdminHandler(readiness, metrics, AdminHandler::notFound);
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    String path = exchange.getRelativePath();
    boolean known = path.equals("/health") || path.equals("/ready") || path.equals("/metrics");
    if (!known) {
      fallback.handleRequest(exchange);
      return;
    }
    exchange.putAttachment(HttpMetrics.ROUTE, path);
    if (!exchange.getRequestMethod().equals(Methods.GET)
        && !exchange.getRequestMethod().equals(Methods.HEAD)) {
      exchange.setStatusCode(StatusCodes.METHOD_NOT_ALLOWED);
      exchange.getResponseHeaders().put(Headers.ALLOW, "GET, HEAD");
      exchange.endExchange();
      return;
    }
    switch (path) {
      case "/health" -> json(exchange, StatusCodes.OK, "{\"status\":\"up\"}\n");
      case "/ready" -> ready(exchange, readiness);
      default -> {
        if (exchange.isInIoThread()) {
          // rendering every meter can take a while; keep it off the IO thread
          exchange.dispatch(this);
          return;
        }
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, Metrics.CONTENT_TYPE);
        exchange.getResponseSender().send(metrics.scrape());
      }
    }
  }

  private static void ready(HttpServerExchange exchange, Readiness readiness) {
    Readiness.State state = readiness.state();
    json(
        exchange,
        state == Readiness.State.READY ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE,
        "{\"status\":\"" + state.name().toLowerCase(java.util.Locale.ROOT) + "\"}\n");
  }

  private static void json(HttpServerExchange exchange, int status, String body) {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    exchange.getResponseSender().send(body);
  }

  /** JSON 404 for a path no admin route knows; roles use it after their own admin extras. */
  public static void notFound(HttpServerExchange exchange) {
    exchange.putAttachment(HttpMetrics.ROUTE, "other");
    json(exchange, StatusCodes.NOT_FOUND, "{\"error\":\"not found\"}\n");
  }
}
