package com.foobar.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Undertow's proxy reports each request whose backend failed it ({@code UT005028}: the backend
 * closed or reset the connection, refused the TLS handshake) as an ERROR with the whole stack
 * trace, forty lines for what a proxy meets whenever a backend restarts. nginx writes one line
 * ("upstream prematurely closed connection"); so does this filter: such an event is dropped and
 * logged again by the same logger as one WARN line, event {@code proxy.request_failed}, its
 * exception and causes in {@code cause}. Every other event passes untouched.
 */
final class ProxyFailureFilter extends TurboFilter {
  static final String LOGGER = "io.undertow.proxy";
  static final String CODE = "UT005028";

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (t == null
        || level != Level.ERROR
        || format == null
        || !format.startsWith(CODE)
        || !LOGGER.equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    String cause = causes(t);
    logger
        .atWarn()
        .addKeyValue("event", "proxy.request_failed")
        .addKeyValue("cause", cause)
        .log("{}: {}", format, cause);
    return FilterReply.DENY;
  }

  /** {@code t} and its causes, each as its class and message, "; caused by " between them. */
  static String causes(Throwable t) {
    StringBuilder b = new StringBuilder(t.toString());
    int depth = 0;
    for (Throwable c = t.getCause(); c != null && c != t && depth < 5; c = c.getCause(), depth++) {
      b.append("; caused by ").append(c);
    }
    return b.toString();
  }
}
