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
 * proxy.request_timed_out}. The same failure line again on the same thread within a second is
 * dropped. Every other event passes untouched.
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
      if (repeated(format + cause)) {
        return FilterReply.DENY;
      }
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

  /** The last failure line logged on this thread, and when. */
  private static final ThreadLocal<Last> LAST = ThreadLocal.withInitial(Last::new);

  /** How long the same failure line, repeated on one thread, is dropped. */
  static final long REPEAT_NANOS = 1_000_000_000L;

  private static final class Last {
    String line = "";
    long at;
  }

  /**
   * Whether {@code line} is the one this thread logged last, less than {@link #REPEAT_NANOS} ago:
   * Undertow's proxy reports one failed request up to three times (the request's end, the
   * response's, the connection's), each the same line.
   */
  private static boolean repeated(String line) {
    Last last = LAST.get();
    long now = System.nanoTime();
    boolean repeated = last.line.equals(line) && now - last.at < REPEAT_NANOS;
    last.line = line;
    last.at = now;
    return repeated;
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
