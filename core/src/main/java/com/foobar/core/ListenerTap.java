package com.foobar.core;

import io.undertow.util.HttpString;
import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What an engine that takes over a listener's HTTP/1.1 connections ({@link
 * HttpServerBuilder#takeover}) owes the listener for the requests it serves itself: the same
 * allow/deny decision, the same {@code http.server.requests} timer, the same in-flight count that
 * {@link HttpServer#drain} waits for, and the same connection gauge, as Undertow's chain keeps for
 * the requests it serves, and the same access log.
 */
public final class ListenerTap {
  private final String name;
  private final AccessRule rule;
  private final AtomicLong open;
  private final ObservingHandler observing;
  private volatile HttpLimits limits;

  ListenerTap(
      String name,
      AccessRule rule,
      AtomicLong open,
      ObservingHandler observing,
      HttpLimits limits) {
    this.name = name;
    this.rule = rule;
    this.open = open;
    this.observing = observing;
    this.limits = limits;
  }

  /** The listener's name, as in its meters. */
  public String name() {
    return name;
  }

  /** The listener's request limits and timeouts. */
  public HttpLimits limits() {
    return limits;
  }

  /** The limits from now on ({@link HttpServer#updateLimits}). */
  void update(HttpLimits next) {
    limits = next;
  }

  /** Whether the listener's allow/deny lists admit {@code peer}. */
  public boolean admits(InetAddress peer) {
    return rule.admits(peer);
  }

  /** Counts a connection that sent its first request; pair with {@link #connectionClosed}. */
  public void connectionOpened() {
    open.incrementAndGet();
  }

  /** Counts down what {@link #connectionOpened} counted. */
  public void connectionClosed() {
    open.decrementAndGet();
  }

  /** Whether the listener drains: new requests go to Undertow's chain, which answers 503. */
  public boolean draining() {
    return observing.draining();
  }

  /** A request started; pair every call with {@link #end}. */
  public void begin() {
    observing.begin();
  }

  /** A request that {@link #begin} counted went to Undertow's chain, which counts it itself. */
  public void cancel() {
    observing.cancel();
  }

  /**
   * A request that {@link #begin} counted ended.
   *
   * @param method the request method
   * @param status the status sent, 0 when none was
   * @param nanos from the first byte of the request to the last of the response
   */
  public void end(HttpString method, int status, long nanos) {
    observing.end(method, status, nanos);
  }

  /**
   * Whether the listener writes an access log: then every request that {@link #begin} counted and
   * that the engine answered gets an {@link #access} line.
   */
  public boolean logsAccess() {
    return observing.logsAccess();
  }

  /** Writes the access line of a request the engine served, when the listener logs. */
  public void access(AccessEntry entry) {
    observing.access(entry);
  }
}
