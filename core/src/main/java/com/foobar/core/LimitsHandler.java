package com.foobar.core;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;

/**
 * Enforces {@link HttpLimits} on the request line and headers: a request target longer than {@code
 * max-uri-length} gets 414, header lines adding up to more than {@code max-header-size} bytes or
 * more than {@code max-headers} fields get 431. The parser itself is set to twice these limits (see
 * {@link HttpServer}); beyond that it answers 400 and closes, as Undertow does. {@link #update}
 * changes the limits for the requests that follow (the parser's stay as they were at start).
 */
final class LimitsHandler implements HttpHandler {
  private volatile Bounds bounds;
  private final HttpHandler next;

  private record Bounds(int maxUri, int maxHeaderBytes, int maxHeaders) {
    Bounds(HttpLimits limits) {
      this(
          limits.maxUriLength().intBytes(), limits.maxHeaderSize().intBytes(), limits.maxHeaders());
    }
  }

  LimitsHandler(HttpLimits limits, HttpHandler next) {
    this.bounds = new Bounds(limits);
    this.next = next;
  }

  void update(HttpLimits limits) {
    bounds = new Bounds(limits);
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    Bounds b = bounds;
    int uriLength = exchange.getRequestURI().length() + exchange.getQueryString().length() + 1;
    if (uriLength > b.maxUri()) {
      refuse(exchange, 414, "414 URI Too Long\n");
      return;
    }
    int fields = 0;
    long bytes = 0;
    HeaderMap headers = exchange.getRequestHeaders();
    // the cookie iteration allocates no iterator: this runs for every request
    for (long c = headers.fastIterateNonEmpty(); c != -1L; c = headers.fiNextNonEmpty(c)) {
      HeaderValues values = headers.fiCurrent(c);
      int nameLength = values.getHeaderName().length();
      for (int i = 0; i < values.size(); i++) {
        fields++;
        // "Name: value\r\n"
        bytes += nameLength + 4 + values.get(i).length();
      }
    }
    if (fields > b.maxHeaders() || bytes > b.maxHeaderBytes()) {
      refuse(exchange, 431, "431 Request Header Fields Too Large\n");
      return;
    }
    next.handleRequest(exchange);
  }

  private static void refuse(HttpServerExchange exchange, int status, String body) {
    exchange.setStatusCode(status);
    exchange.setPersistent(false);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
    exchange.getResponseSender().send(body);
  }
}
