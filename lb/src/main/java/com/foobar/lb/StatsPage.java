package com.foobar.lb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.foobar.core.HttpMetrics;
import com.github.benmanes.caffeine.cache.Ticker;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code GET /stats} on the admin listener, like HAProxy's stats page: per backend its state
 * ({@code up}, {@code down}, {@code ejected}, {@code draining}, {@code slow-start}), weight and
 * effective weight, requests in flight, requests per second (last 10 s), answered requests and
 * errors, p50/p99 latency (last minute), the last health check's result and the time in its state;
 * plus retries and retry budget exhaustions; per public listener its open connections, the
 * connections refused by the caps, and TLS handshakes and handshake failures. HTML refreshing
 * itself every 5 s, or JSON with {@code ?format=json}. Every other path goes to {@code next}.
 */
final class StatsPage implements HttpHandler {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The per listener columns, and the meter each sums (see {@link LbMeters#listenerSum}). */
  private static final String[] LISTENER_COLUMNS = {
    "connections_open", "connections_refused", "tls_handshakes", "tls_handshake_failures"
  };

  private static final String[] LISTENER_METERS = {
    "foobar.connections.open",
    "foobar.connections.refused",
    "foobar.tls.handshakes",
    "foobar.tls.handshake.failures"
  };

  private final Supplier<List<Upstream>> upstreams;
  private final LbMeters meters;
  private final Ticker ticker;
  private final HttpHandler next;

  /**
   * @param upstreams the backends now configured (a reload changes them)
   */
  StatsPage(Supplier<List<Upstream>> upstreams, LbMeters meters, Ticker ticker, HttpHandler next) {
    this.upstreams = upstreams;
    this.meters = meters;
    this.ticker = ticker;
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    if (!exchange.getRelativePath().equals("/stats")) {
      next.handleRequest(exchange);
      return;
    }
    exchange.putAttachment(HttpMetrics.ROUTE, "/stats");
    ObjectNode stats = snapshot();
    exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    Deque<String> format = exchange.getQueryParameters().get("format");
    if (format != null && "json".equals(format.peekFirst())) {
      exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
      exchange.getResponseSender().send(JSON.writeValueAsString(stats) + "\n");
    } else {
      exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/html; charset=utf-8");
      exchange.getResponseSender().send(html(stats));
    }
  }

  ObjectNode snapshot() {
    long now = ticker.read();
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("backends");
    for (Upstream u : upstreams.get()) {
      ObjectNode b = list.addObject();
      b.put("backend", u.name());
      b.put("state", Upstream.lower(u.state(now)));
      b.put("weight", u.weight());
      b.put("effective_weight", round(u.effectiveWeight(now)));
      b.put("in_flight", u.inFlight().get());
      b.put("requests_per_second", round(meters.requestsPerSecond(u)));
      b.put("requests", meters.requests(u));
      b.put("errors", meters.errors(u));
      b.put("p50_ms", round(meters.percentileMillis(u, 0.5)));
      b.put("p99_ms", round(meters.percentileMillis(u, 0.99)));
      b.put("last_check", u.lastCheck());
      b.put("seconds_in_state", round(u.timeInState(now) / 1e9));
    }
    root.put("retries", (long) meters.retries());
    root.put("retry_budget_exhausted", (long) meters.budgetExhaustions());
    ArrayNode listeners = root.putArray("listeners");
    for (String name : List.of(LoadBalancer.HTTPS_LISTENER, LoadBalancer.HTTP_LISTENER)) {
      ObjectNode l = listeners.addObject();
      l.put("listener", name);
      for (int i = 0; i < LISTENER_COLUMNS.length; i++) {
        l.put(LISTENER_COLUMNS[i], (long) meters.listenerSum(LISTENER_METERS[i], name));
      }
    }
    return root;
  }

  private static double round(double v) {
    return Double.isNaN(v) ? 0 : Math.round(v * 100) / 100.0;
  }

  private static String html(ObjectNode stats) {
    StringBuilder s = new StringBuilder(2048);
    s.append("<!doctype html><html><head><meta charset=\"utf-8\">")
        .append("<meta http-equiv=\"refresh\" content=\"5\"><title>foobar lb stats</title>")
        .append("<style>body{font-family:sans-serif}table{border-collapse:collapse}")
        .append("td,th{border:1px solid #999;padding:2px 8px;text-align:right}")
        .append(".up{background:#cfc}.down,.ejected{background:#fcc}")
        .append(".draining,.slow-start{background:#ffc}</style></head><body>")
        .append("<h1>foobar lb</h1><table><tr>");
    String[] columns = {
      "backend", "state", "weight", "effective_weight", "in_flight", "requests_per_second",
      "requests", "errors", "p50_ms", "p99_ms", "last_check", "seconds_in_state"
    };
    for (String c : columns) {
      s.append("<th>").append(c.replace('_', ' ')).append("</th>");
    }
    s.append("</tr>");
    for (var b : stats.get("backends")) {
      s.append("<tr class=\"").append(b.get("state").asText()).append("\">");
      for (String c : columns) {
        s.append("<td>").append(escape(b.get(c).asText())).append("</td>");
      }
      s.append("</tr>");
    }
    s.append("</table><h2>listeners</h2>");
    table(s, stats.get("listeners"), "listener", LISTENER_COLUMNS);
    s.append("<p>retries: ")
        .append(stats.get("retries").asLong())
        .append(", retry budget exhausted: ")
        .append(stats.get("retry_budget_exhausted").asLong())
        .append("</p></body></html>\n");
    return s.toString();
  }

  private static void table(StringBuilder s, JsonNode rows, String first, String[] columns) {
    s.append("<table><tr><th>").append(first).append("</th>");
    for (String c : columns) {
      s.append("<th>").append(c.replace('_', ' ')).append("</th>");
    }
    s.append("</tr>");
    for (JsonNode row : rows) {
      s.append("<tr><td>").append(escape(row.get(first).asText())).append("</td>");
      for (String c : columns) {
        s.append("<td>").append(row.get(c).asLong()).append("</td>");
      }
      s.append("</tr>");
    }
    s.append("</table>");
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
