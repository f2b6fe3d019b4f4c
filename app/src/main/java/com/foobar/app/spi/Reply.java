package com.foobar.app.spi;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The answer of a route: a status, headers, and an optional body serialized as JSON. Immutable;
 * {@link #header} returns a copy.
 */
public final class Reply {
  private final int status;
  private final Optional<Object> body;
  private final Map<String, String> headers;

  private Reply(int status, Optional<Object> body, Map<String, String> headers) {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status must be 100..599, got " + status);
    }
    this.status = status;
    this.body = body;
    this.headers = Map.copyOf(headers);
  }

  /** {@code status} with {@code body} as JSON ({@code application/json}). */
  public static Reply json(int status, Object body) {
    return new Reply(status, Optional.of(body), Map.of());
  }

  /** 200 with {@code body} as JSON. */
  public static Reply ok(Object body) {
    return json(200, body);
  }

  /**
   * A redirect ({@code 301}, {@code 302}, {@code 303}, {@code 307} or {@code 308}) to {@code
   * location}.
   */
  public static Reply redirect(int status, String location) {
    if (status < 300 || status > 308) {
      throw new IllegalArgumentException("a redirect status is 3xx, got " + status);
    }
    return new Reply(status, Optional.empty(), Map.of("Location", location));
  }

  /** {@code status} without a body, e.g. 204. */
  public static Reply empty(int status) {
    return new Reply(status, Optional.empty(), Map.of());
  }

  /** This reply with one more header (replacing one of the same name). */
  public Reply header(String name, String value) {
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(name, value);
    return new Reply(status, body, copy);
  }

  public int status() {
    return status;
  }

  /** The object to serialize as JSON; empty for a reply without a body. */
  public Optional<Object> body() {
    return body;
  }

  public Map<String, String> headers() {
    return headers;
  }
}
