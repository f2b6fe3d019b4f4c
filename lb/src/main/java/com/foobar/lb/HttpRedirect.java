package com.foobar.lb;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

/**
 * The plain HTTP listener: {@code 308} to {@code https://<host>[:httpsPort]<path>?<query>} (the
 * port left out when it is 443), except paths under {@code /.well-known/acme-challenge/}, which go
 * to {@code acme} (the balancer) so that a backend can answer an ACME HTTP-01 challenge.
 */
final class HttpRedirect implements HttpHandler {
  static final String ACME = "/.well-known/acme-challenge/";

  private final int httpsPort;
  private final HttpHandler acme;

  HttpRedirect(int httpsPort, HttpHandler acme) {
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
    String query = exchange.getQueryString();
    String location =
        "https://"
            + host
            + (httpsPort == 443 ? "" : ":" + httpsPort)
            + exchange.getRequestURI()
            + (query.isEmpty() ? "" : "?" + query);
    exchange.setStatusCode(308);
    exchange.getResponseHeaders().put(Headers.LOCATION, location);
    exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, 0);
    exchange.endExchange();
  }
}
