package com.foobar.lb;

import com.foobar.core.LbConfig;
import io.undertow.server.handlers.proxy.ConnectionPoolManager;

/**
 * The sizes of Undertow's connection pools to the backends ({@link BalancingClient}), one for all:
 * {@code lb.pool.max-connections} and {@code lb.pool.queue} split evenly over the IO threads
 * (Undertow pools per thread). Availability is the {@link Upstream}'s business, so the pool never
 * marks a backend as a problem itself.
 */
final class PoolSizing implements ConnectionPoolManager {
  private final int ioThreads;
  // a pool reads the connection limits once, when it is made; the queue at every request
  private volatile int perThread;
  private volatile int queuePerThread;

  PoolSizing(LbConfig.PoolConfig pool, int ioThreads) {
    this.ioThreads = ioThreads;
    resize(pool);
  }

  /** Takes {@code pool}'s queue size now and its connection limit for pools made from now on. */
  void resize(LbConfig.PoolConfig pool) {
    this.perThread = Math.max(1, ceilDiv(pool.maxConnections(), ioThreads));
    this.queuePerThread = ceilDiv(pool.queue(), ioThreads);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  @Override
  public int getProblemServerRetry() {
    return -1;
  }

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public boolean handleError() {
    return true;
  }

  @Override
  public boolean clearError() {
    return true;
  }

  @Override
  public int getMaxConnections() {
    return perThread;
  }

  @Override
  public int getMaxCachedConnections() {
    return perThread;
  }

  @Override
  public int getSMaxConnections() {
    return perThread;
  }

  @Override
  public long getTtl() {
    return 60_000;
  }

  @Override
  public int getMaxQueueSize() {
    return queuePerThread;
  }
}
