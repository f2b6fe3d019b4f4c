package com.foobar.app.spi;

import java.util.Optional;

/** One request to an application route. */
public interface Request {

  /** {@code GET}, {@code POST}, ... */
  String method();

  /** The decoded request path, e.g. {@code /r/abc}. */
  String path();

  /**
   * The value of the route variable {@code name} (e.g. {@code code} in {@code /r/{code}}).
   *
   * @throws IllegalArgumentException when the route has no such variable
   */
  String param(String name);

  /** The first query parameter {@code name}, decoded. */
  Optional<String> query(String name);

  /** The first request header {@code name} (case-insensitive). */
  Optional<String> header(String name);

  /**
   * The JSON body bound to {@code type} (a record or a Jackson-mappable class). Unknown properties
   * are refused.
   *
   * @throws HttpError 415 when the body is not {@code application/json}, 400 when it is malformed
   *     or does not fit {@code type}; 413 is sent before the handler runs
   */
  <T> T body(Class<T> type);

  /**
   * The origin the client used, e.g. {@code https://www.foobar.com}: the scheme from {@code
   * X-Forwarded-Proto} when the load balancer sent one, and the {@code Host} header.
   */
  String origin();

  /** The client's IP address as the backend saw it. */
  String remoteAddress();
}
