package com.foobar.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.foobar.app.spi.HttpError;
import com.foobar.app.spi.Reply;
import com.foobar.replication.DatabaseException;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs one route's handler on a worker thread: reads the body (at most {@code max-body-size} bytes,
 * else 413), calls the handler, and writes its {@link Reply} as JSON.
 *
 * <p>Failures become JSON answers: {@link HttpError} its own status; a {@link DatabaseException} of
 * kind {@code UNAVAILABLE} 503; anything else 500 with a 12-hex-digit error id, which is also in
 * the ERROR log event {@code app.error} with the application, the route and the stack trace. No
 * stack trace or exception type reaches the client.
 *
 * <p>While the route runs, the SLF4J MDC holds {@code request_id} (the request's {@code
 * X-Request-Id}, set by the lb; nothing when the request has none), so that every event the
 * application logs on this thread names the request, as the access log line does.
 */
final class RouteRunner implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(RouteRunner.class);

  /** The MDC key of the request id, the name the access log uses too. */
  static final String REQUEST_ID_MDC = "request_id";

  private static final HttpString REQUEST_ID = new HttpString("X-Request-Id");

  private static final byte[] NONE = new byte[0];

  private final AppRoute route;
  private final Map<String, String> variables;
  private final long maxBodyBytes;

  RouteRunner(AppRoute route, Map<String, String> variables, long maxBodyBytes) {
    this.route = route;
    this.variables = variables;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws IOException {
    String requestId = exchange.getRequestHeaders().getFirst(REQUEST_ID);
    if (requestId == null) {
      run(exchange);
      return;
    }
    MDC.put(REQUEST_ID_MDC, requestId);
    try {
      run(exchange);
    } finally {
      MDC.remove(REQUEST_ID_MDC);
    }
  }

  private void run(HttpServerExchange exchange) throws IOException {
    exchange.startBlocking();
    Reply reply;
    try {
      byte[] body = readBody(exchange);
      reply = route.handler().handle(new AppRequest(exchange, variables, body));
    } catch (HttpError e) {
      Json.sendError(exchange, e.status(), e.error(), e.detail());
      return;
    } catch (DatabaseException e) {
      if (e.kind() != DatabaseException.Kind.UNAVAILABLE) {
        internalError(exchange, e);
        return;
      }
      log.atWarn()
          .addKeyValue("event", "app.db_unavailable")
          .addKeyValue("app", route.app())
          .addKeyValue("route", describe())
          .addKeyValue("reason", e.getMessage())
          .log(
              "route {} of app {}: database unavailable: {}",
              describe(),
              route.app(),
              e.getMessage());
      exchange.getResponseHeaders().put(Headers.RETRY_AFTER, "1");
      Json.sendError(exchange, 503, "unavailable", "the database is unavailable; try again");
      return;
    } catch (IOException e) {
      // the client went away while sending the body: nobody to answer
      throw e;
    } catch (Exception e) {
      internalError(exchange, e);
      return;
    }
    send(exchange, reply);
  }

  private void send(HttpServerExchange exchange, Reply reply) {
    byte[] bytes;
    try {
      bytes = reply.body().isPresent() ? Json.MAPPER.writeValueAsBytes(reply.body().get()) : NONE;
    } catch (JsonProcessingException e) {
      internalError(exchange, e);
      return;
    }
    exchange.setStatusCode(reply.status());
    var headers = exchange.getResponseHeaders();
    headers.put(Headers.CACHE_CONTROL, "no-store");
    if (reply.body().isPresent()) {
      headers.put(Headers.CONTENT_TYPE, Json.TYPE);
    }
    reply.headers().forEach((name, value) -> headers.put(new HttpString(name), value));
    headers.put(Headers.CONTENT_LENGTH, bytes.length);
    if (bytes.length == 0) {
      exchange.endExchange();
    } else {
      exchange.getResponseSender().send(ByteBuffer.wrap(bytes));
    }
  }

  /** The body, counted as it arrives (chunked bodies have no declared length). */
  private byte[] readBody(HttpServerExchange exchange) throws IOException {
    InputStream in = exchange.getInputStream();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    long total = 0;
    for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
      total += n;
      if (total > maxBodyBytes) {
        // the rest of the body is still on the wire: the connection cannot be reused
        exchange.setPersistent(false);
        throw new HttpError(413, "payload_too_large", tooLarge(maxBodyBytes));
      }
      out.write(buffer, 0, n);
    }
    return out.toByteArray();
  }

  static String tooLarge(long maxBodyBytes) {
    return "the request body exceeds backend.limits.max-body-size (" + maxBodyBytes + " bytes)";
  }

  private void internalError(HttpServerExchange exchange, Exception e) {
    String id = errorId();
    log.atError()
        .addKeyValue("event", "app.error")
        .addKeyValue("app", route.app())
        .addKeyValue("route", describe())
        .addKeyValue("error_id", id)
        .setCause(e)
        .log("route {} of app {} failed, error id {}", describe(), route.app(), id);
    if (exchange.isResponseStarted()) {
      exchange.setPersistent(false);
      exchange.endExchange();
      return;
    }
    exchange.getResponseHeaders().clear();
    Json.sendError(
        exchange,
        500,
        "internal",
        "the server failed to answer; quote error id " + id + " when reporting it",
        Map.of("id", id));
  }

  private String describe() {
    return route.method() + " " + route.template().text();
  }

  /** 12 random hex digits: enough to find one log line, short enough to read out. */
  static String errorId() {
    byte[] bytes = new byte[6];
    ThreadLocalRandom.current().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
