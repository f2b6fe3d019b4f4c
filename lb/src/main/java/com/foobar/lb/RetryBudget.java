package com.foobar.lb;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/**
 * Bounds retries to a share of requests over a sliding window ({@code lb.retries.budget-percent}
 * over {@code lb.retries.budget-window}), so that a sick cluster is not hammered: a retry is
 * allowed while the retries counted in the window stay below {@code percent} of the requests
 * counted in it. The window slides in ten steps.
 */
final class RetryBudget {
  private final int percent;
  private final WindowCounter requests;
  private final WindowCounter retries;

  RetryBudget(int percent, Duration window, Ticker ticker) {
    if (percent < 0) {
      throw new IllegalArgumentException(
          "lb.retries.budget-percent must not be negative, got " + percent);
    }
    this.percent = percent;
    this.requests = new WindowCounter(window, 10, ticker);
    this.retries = new WindowCounter(window, 10, ticker);
  }

  /** Counts a request from a client (not a retry). */
  void onRequest() {
    requests.add();
  }

  /** Takes one retry from the budget; false (and nothing counted) when the budget is spent. */
  synchronized boolean tryRetry() {
    if (retries.sum() * 100 >= (long) percent * requests.sum()) {
      return false;
    }
    retries.add();
    return true;
  }
}
