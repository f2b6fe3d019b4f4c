package com.foobar.lb;

import static com.foobar.lb.H1Relay.REFERER;
import static com.foobar.lb.H1Relay.USER_AGENT;

import com.foobar.core.AccessEntry;

/**
 * The access line of a request the HTTP/1.1 relay served: its target and the fields the line shows
 * stay in the request's bytes ({@code head}, as the client sent them) until the log's thread
 * formats the line, so the IO thread decodes nothing for it.
 */
record RelayLine(
    long epochMillis,
    String remote,
    String method,
    byte[] head,
    int status,
    long bytes,
    long nanos,
    String requestId,
    String backend,
    long backendNanos,
    int attempts)
    implements AccessEntry {

  @Override
  public String uri() {
    return Heads.target(head);
  }

  @Override
  public String protocol() {
    return "HTTP/1.1";
  }

  @Override
  public String referer() {
    return Heads.field(head, REFERER);
  }

  @Override
  public String userAgent() {
    return Heads.field(head, USER_AGENT);
  }
}
