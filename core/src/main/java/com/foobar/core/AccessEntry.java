package com.foobar.core;

import io.undertow.util.AttachmentKey;

/**
 * What one access log line says of a request, taken when it ended. The line is formatted later, on
 * the log's own thread: an implementation may keep raw bytes and decode them only when asked.
 */
public interface AccessEntry {
  /**
   * Where a proxy engine serving an exchange leaves what the access line says of its backend; read
   * when the exchange completes.
   */
  AttachmentKey<Proxied> PROXIED = AttachmentKey.create(Proxied.class);

  /** When the request ended. */
  long epochMillis();

  /** The client's address (the one a trusted proxy named, where one did). */
  String remote();

  /** The request method. */
  String method();

  /** The request target: path and query, as sent. */
  String uri();

  /** {@code HTTP/1.1}, {@code HTTP/2.0} … */
  String protocol();

  /** The status sent; 0 when the connection ended before one was. */
  int status();

  /** Response body bytes sent (nginx's {@code $body_bytes_sent}). */
  long bytes();

  /** From the request's arrival to its response's last byte. */
  long nanos();

  /** The {@code Referer} header, or null. */
  String referer();

  /** The {@code User-Agent} header, or null. */
  String userAgent();

  /** The request's {@code X-Request-Id}, or null. */
  String requestId();

  /** For a proxied request, the backend of its last attempt; null when none was tried. */
  String backend();

  /** From the first attempt to the backend's response head; -1 when no backend answered. */
  long backendNanos();

  /** Backends tried (1 unless the request was retried); 0 when none was. */
  int attempts();

  /** An entry of values taken at once. */
  record Of(
      long epochMillis,
      String remote,
      String method,
      String uri,
      String protocol,
      int status,
      long bytes,
      long nanos,
      String referer,
      String userAgent,
      String requestId,
      String backend,
      long backendNanos,
      int attempts)
      implements AccessEntry {}

  /** A proxied request's backend, as its access line gives it ({@link #PROXIED}). */
  interface Proxied {
    /** The backend of the last attempt; null when none was tried. */
    String backend();

    /** From the first attempt to the backend's response head; -1 when no backend answered. */
    long backendNanos();

    /** Backends tried. */
    int attempts();
  }
}
