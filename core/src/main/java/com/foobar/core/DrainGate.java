package com.foobar.core;

import io.undertow.server.HttpHandler;

/**
 * Once closed, every response (in-flight ones included) carries {@code Connection: close}, so
 * keep-alive clients reconnect elsewhere while the server drains.
 */
final class DrainGate {
  private volatile boolean closed;

  void close() {
    closed = true;
  }

  HttpHandler wrap(HttpHandler next) {
    return exchange -> {
      if (closed) {
        exchange.setPersistent(false);
      }
      next.handleRequest(exchange);
    };
  }
}
