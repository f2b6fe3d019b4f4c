package com.foobar.app;

import com.foobar.core.BackendConfig;
import com.foobar.core.HttpMetrics;
import com.foobar.core.ProxiedBody;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ProxyHandler;
import io.undertow.util.Headers;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.XnioExecutor;

/**
 * {@code backend.upstream}: proxies request paths under a route's prefix to another HTTP server,
 * with nginx {@code proxy_pass} semantics. The first route whose prefix starts the request URI
 * wins. A URL without a path gets the request URI unchanged; a URL with a path (even {@code /})
 * gets the matched prefix replaced by that path ({@code /py/} to {@code http://h:3000/} sends
 * {@code /py/a?b} as {@code /a?b}). A prefix ending in {@code /} answers its bare form ({@code
 * /py}) with a 301 to it, as nginx does. Everything else goes to {@code next}.
 *
 * <p>The upstream gets {@code Host} of the upstream URL, {@code X-Forwarded-Host} with the client's
 * {@code Host}, {@code X-Forwarded-For} (appended to the load balancer's) and {@code
 * X-Forwarded-Proto} (the load balancer's, else this listener's scheme). A body larger than {@code
 * max-body-size} gets 413 (by {@code Content-Length} up front; a chunked body as it is forwarded).
 * A chunked body that cannot be forwarded whole (over the limit, still coming at {@code timeout}:
 * 408, the client gone) is cut off at the upstream, never sent as a shorter complete one ({@link
 * ProxiedBody}). No connection within {@code connect-timeout} or a refused connection: 502 (see
 * {@link UpstreamClient}); no complete answer within {@code timeout}: 504 and the WARN event {@code
 * upstream.error}.
 *
 * <p>Requests are tagged {@code upstream:<prefix>} in {@code http.server.requests}.
 */
final class UpstreamProxy implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(UpstreamProxy.class);

  private final List<Target> targets;
  private final long maxBodyBytes;
  private final long timeoutNanos;
  private final HttpHandler next;

  private record Target(String prefix, String path, URI url, String tag, HttpHandler proxy) {}

  UpstreamProxy(BackendConfig.UpstreamConfig config, long maxBodyBytes, HttpHandler next) {
    this.targets =
        config.routes().stream()
            .map(r -> target(r, config.connectTimeout(), config.timeout()))
            .toList();
    this.maxBodyBytes = maxBodyBytes;
    this.timeoutNanos = config.timeout().toNanos();
    this.next = next;
  }

  private static Target target(BackendConfig.Route route, Duration connect, Duration timeout) {
    URI url = route.url();
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
      throw new IllegalArgumentException(
          "backend.upstream.routes: url must be http:// or https://, got '" + url + "'");
    }
    HttpHandler proxy =
        ProxyHandler.builder()
            .setProxyClient(new UpstreamClient(route.prefix(), url, connect))
            .setMaxRequestTime(Math.toIntExact(timeout.toMillis()))
            .setRewriteHostHeader(true)
            .setReuseXForwarded(true)
            .build();
    String path = url.getRawPath() == null ? "" : url.getRawPath();
    return new Target(route.prefix(), path, url, "upstream:" + route.prefix(), proxy);
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    String uri = exchange.getRequestURI();
    for (Target t : targets) {
      if (uri.startsWith(t.prefix())) {
        proxy(exchange, t, uri);
        return;
      }
      if (t.prefix().endsWith("/")
          && uri.length() == t.prefix().length() - 1
          && t.prefix().startsWith(uri)) {
        String query = exchange.getQueryString();
        exchange.setStatusCode(301);
        exchange
            .getResponseHeaders()
            .put(Headers.LOCATION, t.prefix() + (query.isEmpty() ? "" : "?" + query));
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, 0);
        exchange.endExchange();
        return;
      }
    }
    next.handleRequest(exchange);
  }

  private void proxy(HttpServerExchange exchange, Target t, String uri) throws Exception {
    exchange.putAttachment(HttpMetrics.ROUTE, t.tag());
    if (exchange.getRequestContentLength() > maxBodyBytes) {
      exchange.setPersistent(false);
      Json.sendError(exchange, 413, "payload_too_large", RouteRunner.tooLarge(maxBodyBytes));
      return;
    }
    ProxiedBody.guard(exchange, maxBodyBytes, UpstreamClient.CUT_OFF);
    exchange.addDefaultResponseListener(this::faultPage);
    if (exchange.getRequestContentLength() < 0 && !exchange.isRequestComplete()) {
      // a body ProxiedBody guards. This timer is set before the proxy's own, so that it runs
      // first: a body still coming is cut off at the upstream before the proxy closes that
      // connection cleanly, with a last chunk
      XnioExecutor.Key timer =
          exchange
              .getIoThread()
              .executeAfter(
                  () -> ProxiedBody.timedOut(exchange), timeoutNanos, TimeUnit.NANOSECONDS);
      exchange.addExchangeCompleteListener(
          (ex, nextListener) -> {
            timer.remove();
            nextListener.proceed();
          });
    }
    long start = System.nanoTime();
    // added after the access log's listener, so it runs first: the log shows the client's URI
    exchange.addExchangeCompleteListener(
        (ex, nextListener) -> {
          ex.setRequestURI(uri);
          long elapsed = System.nanoTime() - start;
          if (ex.getStatusCode() == 504 && elapsed >= timeoutNanos) {
            log.atWarn()
                .addKeyValue("event", "upstream.error")
                .addKeyValue("prefix", t.prefix())
                .addKeyValue("upstream", t.url().toString())
                .addKeyValue("reason", "no answer within " + timeoutNanos / 1_000_000 + " ms")
                .log("upstream {} for {}: timed out", t.url(), t.prefix());
          }
          nextListener.proceed();
        });
    if (!t.path().isEmpty()) {
      exchange.setRequestURI(t.path() + uri.substring(t.prefix().length()));
    }
    t.proxy().handleRequest(exchange);
  }

  /** The answer to a request whose body {@link ProxiedBody} cut off for the client's fault. */
  private boolean faultPage(HttpServerExchange exchange) {
    ProxiedBody.Fault fault = ProxiedBody.fault(exchange);
    if (fault == null || exchange.isResponseStarted()) {
      return false;
    }
    switch (fault) {
      case TOO_LARGE ->
          Json.sendError(exchange, 413, "payload_too_large", RouteRunner.tooLarge(maxBodyBytes));
      case TIMED_OUT ->
          Json.sendError(
              exchange, 408, "request_timeout", "the request body did not arrive in time");
      case BROKEN -> Json.sendError(exchange, 400, "bad_request", "the request body broke off");
    }
    return true;
  }
}
