package com.foobar.lb;

import com.foobar.core.ProxiedBody;
import io.undertow.server.DefaultResponseListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.util.Optional;

/**
 * What the lb does to every public request before the balancer: replaces the client's {@code
 * X-Forwarded-Proto/-Host/-Server/-Port} with what this lb saw unless the peer is trusted ({@code
 * X-Forwarded-For} gets the peer appended by the proxy), keeps an incoming {@code X-Request-Id}
 * only when the peer is trusted ({@link #TRUSTED_PEER}) and generates one otherwise, adds {@code
 * Strict-Transport-Security} on HTTPS, refuses bodies over {@code max-body-size} (413; {@link
 * ProxiedBody} for a body of unknown length), and renders the lb's own 502/503/504 answers as a
 * small JSON body when the client accepts JSON, else HTML.
 */
final class FrontHandler implements HttpHandler {
  /**
   * Set to {@code true} by a handler in front (the client IP / trusted proxy handler) when the peer
   * is a trusted proxy whose {@code X-Request-Id} may be kept.
   */
  static final AttachmentKey<Boolean> TRUSTED_PEER = AttachmentKey.create(Boolean.class);

  static final HttpString REQUEST_ID = new HttpString("X-Request-Id");
  private static final HttpString HSTS = new HttpString("Strict-Transport-Security");

  private final Optional<String> hsts;
  private final long maxBodyBytes;
  private final HttpHandler next;

  /**
   * @param hsts the header value for HTTPS responses; empty on the plain listener or with {@code
   *     hsts: off}
   */
  FrontHandler(Optional<String> hsts, long maxBodyBytes, HttpHandler next) {
    this.hsts = hsts;
    this.maxBodyBytes = maxBodyBytes;
    this.next = next;
  }

  /** The {@code Strict-Transport-Security} value of {@code lb.hsts}; empty for {@code off}. */
  static Optional<String> hsts(String configured) {
    return configured.equalsIgnoreCase("off") ? Optional.empty() : Optional.of(configured);
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    var headers = exchange.getRequestHeaders();
    if (hsts.isPresent()) {
      exchange.getResponseHeaders().put(HSTS, hsts.get());
    }
    exchange.addDefaultResponseListener(ERROR_PAGES);
    if (exchange.getRequestContentLength() > maxBodyBytes) {
      exchange.setPersistent(false);
      exchange.setStatusCode(413);
      exchange.endExchange();
      return;
    }
    ProxiedBody.guard(exchange, maxBodyBytes, BalancingClient.CUT_OFF);
    boolean trusted = Boolean.TRUE.equals(exchange.getAttachment(TRUSTED_PEER));
    if (!trusted || !headers.contains(REQUEST_ID)) {
      headers.put(REQUEST_ID, RequestIds.next());
    }
    if (!trusted) {
      headers.remove(Headers.X_FORWARDED_PROTO);
      headers.remove(Headers.X_FORWARDED_SERVER);
      headers.remove(Headers.X_FORWARDED_PORT);
    }
    headers.remove(Headers.X_FORWARDED_HOST);
    String host = headers.getFirst(Headers.HOST);
    if (host != null) {
      headers.put(Headers.X_FORWARDED_HOST, host);
    }
    exchange.getResponseHeaders().put(REQUEST_ID, headers.getFirst(REQUEST_ID));
    NoClientCertificate.apply(exchange);
    next.handleRequest(exchange);
  }

  /** Error bodies for the statuses the lb itself answers with. */
  static final DefaultResponseListener ERROR_PAGES =
      exchange -> {
        if (exchange.isResponseStarted()) {
          return false;
        }
        int status = exchange.getStatusCode();
        ProxiedBody.Fault fault = ProxiedBody.fault(exchange);
        if (fault != null) {
          // the proxy's failure to finish a request whose body the lb cut off for the client's
          // fault
          status = fault.status;
          exchange.setStatusCode(status);
        }
        BalancingClient.Attempts a = exchange.getAttachment(BalancingClient.ATTEMPTS);
        if (status == 503
            && a != null
            && (a.failure == BalancingClient.Failure.CONNECT || !a.settled)) {
          // every backend tried refused or reset the connection (or failed the TLS handshake,
          // which Undertow's client does on the first write: the last attempt is then still
          // unsettled): a bad gateway, not overload
          status = 502;
          exchange.setStatusCode(status);
        }
        Optional<ErrorPages.Page> page =
            ErrorPages.of(
                status,
                ErrorPages.wantsJson(exchange.getRequestHeaders().getFirst(Headers.ACCEPT)));
        if (page.isEmpty()) {
          return false;
        }
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, page.get().contentType());
        exchange.getResponseSender().send(page.get().body());
        return true;
      };
}
