package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {
  private final TestLb.FakeTicker ticker = new TestLb.FakeTicker();

  @Test
  void retries_stopAtPercentOfRequests() {
    RetryBudget budget = new RetryBudget(20, Duration.ofSeconds(10), ticker);
    for (int i = 0; i < 100; i++) {
      budget.onRequest();
    }
    int allowed = 0;
    for (int i = 0; i < 100; i++) {
      if (budget.tryRetry()) {
        allowed++;
      }
    }
    assertThat(allowed).isEqualTo(20);
  }

  @Test
  void budget_refillsAsWindowSlides() {
    RetryBudget budget = new RetryBudget(20, Duration.ofSeconds(10), ticker);
    for (int i = 0; i < 10; i++) {
      budget.onRequest();
    }
    assertThat(budget.tryRetry()).isTrue();
    assertThat(budget.tryRetry()).isTrue();
    assertThat(budget.tryRetry()).isFalse();
    ticker.advance(Duration.ofSeconds(11));
    for (int i = 0; i < 5; i++) {
      budget.onRequest();
    }
    assertThat(budget.tryRetry()).isTrue();
    assertThat(budget.tryRetry()).isFalse();
  }

  @Test
  void zeroPercent_neverRetries() {
    RetryBudget budget = new RetryBudget(0, Duration.ofSeconds(10), ticker);
    budget.onRequest();
    assertThat(budget.tryRetry()).isFalse();
  }
}
