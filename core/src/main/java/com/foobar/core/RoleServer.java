package com.foobar.core;

import java.time.Duration;
import java.util.List;

/**
 * A started role ({@code lb}, {@code backend}, {@code monitor}) as the launcher sees it: its
 * listeners for the banner, its readiness, and the two steps of stopping.
 */
public interface RoleServer {
  /** The role's name: {@code lb}, {@code backend} or {@code monitor}. */
  String role();

  /** Every listener the role opened, as bound. */
  List<HttpServer.Bound> listeners();

  /** Whether the role can serve. */
  Readiness readiness();

  /**
   * Turns {@code /ready} to 503, answers new requests on the public listeners with 503 and {@code
   * Connection: close}, and waits up to {@code timeout} for in-flight requests; the admin listener
   * keeps answering meanwhile.
   *
   * @return whether everything in flight finished in time
   */
  boolean drain(Duration timeout) throws InterruptedException;

  /** Closes every listener and releases the role's resources. */
  void stop() throws InterruptedException;
}
