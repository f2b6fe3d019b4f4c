package com.foobar.lb;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.function.IntSupplier;

/**
 * The plain HTTP listener: {@code 308} to {@code https://<host>[:httpsPort]<path>?<query>} (the
 * port left out when it is 443), except paths under {@code /.well-known/acme-challenge/}, which go
 * to {@code acme} (the balancer) so that a backend can answer an ACME HTTP-01 challenge.
 */
final class HttpRedirect implements HttpHandler {
  static final String ACME = "/.well-known/acme-challenge/";

  private final IntSupplier httpsPort;
  private final HttpHandler acme;

  /** {@code httpsPort}: the HTTPS listener's port as bound (known once the listeners started). */
  HttpRedirect(IntSupplier httpsPort, HttpHandler acme) {
    this.httpsPort = httpsPort;
    this.acme = acme;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    if (exchange.getRequestPath().startsWith(ACME)) {
      acme.handleRequest(exchange);
      return;
    }
    String host = exchange.getHostName();
    if (host.indexOf(':') >= 0) {
      host = "[" + host + "]";
    }
    int port = httpsPort.getAsInt();
    String query = exchange.getQueryString();
    String location =
        "https://"
            + host
            + (port == 443 ? "" : ":" + port)
            + exchange.getRequestURI()
            + (query.isEmpty() ? "" : "?" + query);
    exchange.setStatusCode(308);
    exchange.getResponseHeaders().put(Headers.LOCATION, location);
    exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, 0);
    exchange.endExchange();
  }
}
