package com.foobar.core;

/**
 * A listener address: {@code 127.0.0.1:8081}, {@code 0.0.0.0:8443}, {@code [::1]:9102} or {@code
 * localhost:8080}.
 *
 * @param host a literal IP address or a host name, without brackets
 * @param port 0 (any free port, for tests) to 65535
 */
public record HostPort(String host, int port) {

  public HostPort {
    if (host.isEmpty()) {
      throw new IllegalArgumentException("host must not be empty");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0-65535, got " + port);
    }
  }

  /**
   * Parses {@code host:port}; IPv6 literals go in brackets.
   *
   * @throws IllegalArgumentException naming what is wrong with {@code text}
   */
  public static HostPort parse(String text) {
    String host;
    String portText;
    if (text.startsWith("[")) {
      int close = text.indexOf("]:");
      if (close < 0) {
        throw new IllegalArgumentException("expected [ipv6]:port");
      }
      host = text.substring(1, close);
      portText = text.substring(close + 2);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0 || text.indexOf(':') != colon) {
        throw new IllegalArgumentException("expected host:port (IPv6 as [addr]:port)");
      }
      host = text.substring(0, colon);
      portText = text.substring(colon + 1);
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port must be a number 0-65535");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range 0-65535");
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("host must not be empty");
    }
    return new HostPort(host, port);
  }

  /** The address as {@code http://host:port}, brackets around IPv6 literals. */
  public String url(String scheme) {
    return scheme + "://" + this;
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
