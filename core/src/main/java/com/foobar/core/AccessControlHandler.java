package com.foobar.core;

import io.micrometer.core.instrument.Counter;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import io.undertow.util.StatusCodes;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The first handler of every listener: refuses peers that the listener's {@link AccessRule} does
 * not admit with 403 and {@code Connection: close}, before any other handler runs, and counts them.
 * The decision is taken once per connection and remembered on it, so keep-alive requests pay
 * nothing.
 */
final class AccessControlHandler implements HttpHandler {
  private static final AttachmentKey<Boolean> ADMITTED = AttachmentKey.create(Boolean.class);

  private final AccessRule rule;
  private final Counter refused;
  private final AtomicLong open;
  private final HttpHandler next;

  /**
   * @param open counts the listener's open connections: up when a connection's first request
   *     arrives, down when it closes
   */
  AccessControlHandler(AccessRule rule, Counter refused, AtomicLong open, HttpHandler next) {
    this.rule = rule;
    this.refused = refused;
    this.open = open;
    this.next = next;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    ServerConnection connection = exchange.getConnection();
    Boolean admitted = connection.getAttachment(ADMITTED);
    if (admitted == null) {
      InetSocketAddress peer = exchange.getSourceAddress();
      admitted = peer != null && peer.getAddress() != null && rule.admits(peer.getAddress());
      connection.putAttachment(ADMITTED, admitted);
      open.incrementAndGet();
      connection.addCloseListener(c -> open.decrementAndGet());
    }
    if (admitted) {
      next.handleRequest(exchange);
      return;
    }
    refused.increment();
    exchange.setStatusCode(StatusCodes.FORBIDDEN);
    exchange.setPersistent(false);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
    exchange.getResponseSender().send("403 Forbidden\n");
  }
}
