package com.foobar.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Undertow's proxy reports what a proxy meets whenever a backend restarts or stalls as ERRORs:
 * {@code UT005028} a request whose backend closed or reset the connection or refused the TLS
 * handshake, with a forty-line stack trace; {@code UT005027} a request that ran out of time. nginx
 * writes one line for each ("upstream prematurely closed connection", "upstream timed out"); so
 * does this filter: such an event is dropped and logged again by the same logger as one WARN line,
 * event {@code proxy.request_failed} (the exception and its causes in {@code cause}) or {@code
 * proxy.request_timed_out}. Every other event passes untouched.
 */
final class ProxyFailureFilter extends TurboFilter {
  static final String LOGGER = "io.undertow.proxy";
  static final String FAILED = "UT005028";
  static final String TIMED_OUT = "UT005027";

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level != Level.ERROR || format == null || !LOGGER.equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    if (t != null && format.startsWith(FAILED)) {
      String cause = causes(t);
      logger
          .atWarn()
          .addKeyValue("event", "proxy.request_failed")
          .addKeyValue("cause", cause)
          .log("{}: {}", format, cause);
      return FilterReply.DENY;
    }
    if (format.startsWith(TIMED_OUT)) {
      logger.atWarn().addKeyValue("event", "proxy.request_timed_out").setCause(t).log(format);
      return FilterReply.DENY;
    }
    return FilterReply.NEUTRAL;
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
