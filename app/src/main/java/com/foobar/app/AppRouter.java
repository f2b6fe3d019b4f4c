package com.foobar.app;

import com.foobar.core.HttpMetrics;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Routes requests to application routes, and passes everything else to {@code next}.
 *
 * <p>A request whose path matches a route's template and method runs that route's handler on a
 * worker thread ({@link RouteRunner}). An application claims the <em>area</em> of each of its
 * routes, the path of the template's leading literal segments ({@code /api/links} for {@code
 * /api/links/{code}}): a request equal to an area or under it ({@code /api/links/...}) that matches
 * no route gets a JSON 404, or a JSON 405 with {@code Allow} when a route matches the path with
 * another method. Templates that start with a variable claim no area; only their matches are
 * routed. Requests outside every area go to {@code next} without allocation.
 *
 * <p>A request body declared larger than {@code maxBodyBytes} by {@code Content-Length} gets 413
 * here, before the handler is dispatched; {@link RouteRunner} counts the bytes of other bodies.
 *
 * <p>Metrics: matched requests are tagged with their template ({@code /api/links/{code}}); 404 and
 * 405 answered here with {@code app:<name>}.
 */
final class AppRouter implements HttpHandler {
  private final List<AppRoute> routes;
  private final String[] areas;
  private final String[] areaApps;
  private final boolean unclaimedRoutes;
  private final long maxBodyBytes;
  private final HttpHandler next;

  /**
   * @param routes every route of every application, in registration order; more specific templates
   *     are tried first
   */
  AppRouter(List<AppRoute> routes, long maxBodyBytes, HttpHandler next) {
    List<AppRoute> sorted = new ArrayList<>(routes);
    sorted.sort(Comparator.comparing(AppRoute::template));
    this.routes = List.copyOf(sorted);
    List<String> a = new ArrayList<>();
    List<String> apps = new ArrayList<>();
    boolean unclaimed = false;
    for (AppRoute r : routes) {
      Optional<String> area = r.template().area();
      if (area.isEmpty()) {
        unclaimed = true;
      } else if (!a.contains(area.get())) {
        a.add(area.get());
        apps.add(r.app());
      }
    }
    this.areas = a.toArray(new String[0]);
    this.areaApps = apps.toArray(new String[0]);
    this.unclaimedRoutes = unclaimed;
    this.maxBodyBytes = maxBodyBytes;
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    String path = exchange.getRelativePath();
    int area = areaOf(path);
    if (area < 0 && !unclaimedRoutes) {
      next.handleRequest(exchange);
      return;
    }
    String method = exchange.getRequestMethod().toString();
    TreeSet<String> allowed = new TreeSet<>();
    for (AppRoute route : routes) {
      Optional<Map<String, String>> vars = route.template().match(path);
      if (vars.isEmpty()) {
        continue;
      }
      if (route.answers(method)) {
        exchange.putAttachment(HttpMetrics.ROUTE, route.template().text());
        if (declaredTooLarge(exchange)) {
          return;
        }
        exchange.dispatch(new RouteRunner(route, vars.get(), maxBodyBytes));
        return;
      }
      allowed.add(route.method());
      if (route.method().equals("GET")) {
        allowed.add("HEAD");
      }
    }
    if (!allowed.isEmpty()) {
      String app = area >= 0 ? areaApps[area] : appOf(path);
      exchange.putAttachment(HttpMetrics.ROUTE, "app:" + app);
      exchange.getResponseHeaders().put(Headers.ALLOW, String.join(", ", allowed));
      Json.sendError(
          exchange,
          405,
          "method_not_allowed",
          method + " is not allowed on " + path + "; allowed: " + String.join(", ", allowed));
    } else if (area >= 0) {
      exchange.putAttachment(HttpMetrics.ROUTE, "app:" + areaApps[area]);
      Json.sendError(exchange, 404, "not_found", "no route for " + method + " " + path);
    } else {
      next.handleRequest(exchange);
    }
  }

  /** The index of the first area claiming {@code path}, or -1. */
  private int areaOf(String path) {
    for (int i = 0; i < areas.length; i++) {
      String a = areas[i];
      if (path.startsWith(a) && (path.length() == a.length() || path.charAt(a.length()) == '/')) {
        return i;
      }
    }
    return -1;
  }

  private String appOf(String path) {
    return routes.stream()
        .filter(r -> r.template().match(path).isPresent())
        .map(AppRoute::app)
        .findFirst()
        .orElse("unknown");
  }

  private boolean declaredTooLarge(HttpServerExchange exchange) {
    long length = exchange.getRequestContentLength();
    if (length <= maxBodyBytes) {
      return false;
    }
    exchange.setPersistent(false);
    Json.sendError(exchange, 413, "payload_too_large", RouteRunner.tooLarge(maxBodyBytes));
    return true;
  }
}
