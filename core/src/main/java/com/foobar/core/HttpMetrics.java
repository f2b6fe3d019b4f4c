package com.foobar.core;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The {@code http.server.requests} timer of one listener, tagged by {@code route}, {@code method}
 * and {@code status}. Handlers name the route of a request by attaching {@link #ROUTE}; otherwise
 * the listener's default route is used. Timers are looked up in a table, not built per request.
 */
public final class HttpMetrics {
  /** The route template that served an exchange, e.g. {@code /api/links/{code}}. */
  public static final AttachmentKey<String> ROUTE = AttachmentKey.create(String.class);

  private static final HttpString[] METHODS = {
    Methods.GET,
    Methods.HEAD,
    Methods.OPTIONS,
    Methods.POST,
    Methods.PUT,
    Methods.DELETE,
    Methods.PATCH
  };
  private static final int STATUSES = 600;

  private final MeterRegistry registry;
  private final String listener;
  private final String defaultRoute;
  private final ConcurrentHashMap<String, AtomicReferenceArray<Timer>> byRoute =
      new ConcurrentHashMap<>();

  HttpMetrics(MeterRegistry registry, String listener, String defaultRoute) {
    this.registry = registry;
    this.listener = listener;
    this.defaultRoute = defaultRoute;
  }

  /** For {@link #record(String, HttpString, int, long)}: the listener's default route. */
  static final String ROUTE_UNNAMED = null;

  void record(HttpServerExchange exchange, long nanos) {
    record(
        exchange.getAttachment(ROUTE),
        exchange.getRequestMethod(),
        exchange.getStatusCode(),
        nanos);
  }

  void record(String namedRoute, HttpString requestMethod, int status, long nanos) {
    String route = namedRoute == null ? defaultRoute : namedRoute;
    int method = methodIndex(requestMethod);
    if (status < 0 || status >= STATUSES) {
      status = 0;
    }
    AtomicReferenceArray<Timer> table =
        byRoute.computeIfAbsent(
            route, r -> new AtomicReferenceArray<>((METHODS.length + 1) * STATUSES));
    int slot = method * STATUSES + status;
    Timer timer = table.get(slot);
    if (timer == null) {
      timer =
          Timer.builder("http.server.requests")
              .description("HTTP requests served, by listener, route, method and status")
              .tag("listener", listener)
              .tag("route", route)
              .tag("method", method < METHODS.length ? METHODS[method].toString() : "OTHER")
              .tag("status", Integer.toString(status))
              .register(registry);
      table.set(slot, timer);
    }
    timer.record(nanos, TimeUnit.NANOSECONDS);
  }

  private static int methodIndex(HttpString method) {
    for (int i = 0; i < METHODS.length; i++) {
      if (METHODS[i].equals(method)) {
        return i;
      }
    }
    return METHODS.length;
  }
}
