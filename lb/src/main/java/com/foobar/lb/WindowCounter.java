package com.foobar.lb;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/** Counts events over a sliding window of {@code buckets} equal steps, by the injected ticker. */
final class WindowCounter {
  private final long bucketNanos;
  private final long windowNanos;
  private final long[] counts;
  private final long[] epochs;

  private final Ticker ticker;

  WindowCounter(Duration window, int buckets, Ticker ticker) {
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window must be positive, got " + window);
    }
    this.windowNanos = window.toNanos();
    this.bucketNanos = Math.max(1, windowNanos / buckets);
    this.counts = new long[buckets];
    this.epochs = new long[buckets];
    this.ticker = ticker;
    java.util.Arrays.fill(epochs, Long.MIN_VALUE);
  }

  synchronized void add() {
    long epoch = Math.floorDiv(ticker.read(), bucketNanos);
    int i = (int) Math.floorMod(epoch, (long) counts.length);
    if (epochs[i] != epoch) {
      epochs[i] = epoch;
      counts[i] = 0;
    }
    counts[i]++;
  }

  /** Events in the last window. */
  synchronized long sum() {
    long epoch = Math.floorDiv(ticker.read(), bucketNanos);
    long sum = 0;
    for (int i = 0; i < counts.length; i++) {
      if (epochs[i] != Long.MIN_VALUE && epoch - epochs[i] < counts.length) {
        sum += counts[i];
      }
    }
    return sum;
  }

  /** Events per second over the last window. */
  double perSecond() {
    return sum() * 1e9 / windowNanos;
  }
}
