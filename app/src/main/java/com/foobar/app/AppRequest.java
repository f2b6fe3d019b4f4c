package com.foobar.app;

import com.foobar.app.spi.HttpError;
import com.foobar.app.spi.Request;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.net.InetSocketAddress;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** {@link Request} over an Undertow exchange whose body was already read. */
final class AppRequest implements Request {
  private final HttpServerExchange exchange;
  private final Map<String, String> variables;
  private final byte[] body;

  AppRequest(HttpServerExchange exchange, Map<String, String> variables, byte[] body) {
    this.exchange = exchange;
    this.variables = variables;
    this.body = body;
  }

  @Override
  public String method() {
    return exchange.getRequestMethod().toString();
  }

  @Override
  public String path() {
    return exchange.getRelativePath();
  }

  @Override
  public String param(String name) {
    String value = variables.get(name);
    if (value == null) {
      throw new IllegalArgumentException(
          "the route has no variable '" + name + "'; it has " + variables.keySet());
    }
    return value;
  }

  @Override
  public Optional<String> query(String name) {
    Deque<String> values = exchange.getQueryParameters().get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
  }

  @Override
  public Optional<String> header(String name) {
    return Optional.ofNullable(exchange.getRequestHeaders().getFirst(name));
  }

  @Override
  public <T> T body(Class<T> type) {
    String contentType = exchange.getRequestHeaders().getFirst(Headers.CONTENT_TYPE);
    if (contentType == null) {
      throw new HttpError(
          415, "unsupported_media_type", "the request body must be application/json");
    }
    int semicolon = contentType.indexOf(';');
    String media = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
    if (!media.toLowerCase(Locale.ROOT).equals(Json.TYPE)) {
      throw new HttpError(
          415,
          "unsupported_media_type",
          "the request body must be application/json, got '" + media + "'");
    }
    return Json.read(body, type);
  }

  @Override
  public String origin() {
    String proto = exchange.getRequestHeaders().getFirst(Headers.X_FORWARDED_PROTO);
    String scheme =
        proto == null || proto.isBlank()
            ? exchange.getRequestScheme()
            : proto.split(",", 2)[0].trim().toLowerCase(Locale.ROOT);
    String host = exchange.getRequestHeaders().getFirst(Headers.HOST);
    return scheme + "://" + (host == null || host.isBlank() ? exchange.getHostAndPort() : host);
  }

  @Override
  public String remoteAddress() {
    InetSocketAddress source = exchange.getSourceAddress();
    return source.getAddress() == null
        ? source.getHostString()
        : source.getAddress().getHostAddress();
  }
}
