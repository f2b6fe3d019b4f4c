package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.LbConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class UpstreamTest {
  private final TestLb.FakeTicker ticker = new TestLb.FakeTicker();

  private Upstream upstream(TestLb t) {
    LbConfig c = t.backend("http://10.0.0.11:8081", 1).build();
    return new Upstream(c.backends().get(0), c, ticker);
  }

  @Test
  void health_downAfterFallFailures_upAfterRiseSuccesses() {
    Upstream u = upstream(new TestLb());
    u.onCheck(false, false, "connect refused");
    u.onCheck(false, false, "connect refused");
    assertThat(u.available(ticker.read())).isTrue();
    u.onCheck(false, false, "connect refused");
    assertThat(u.state(ticker.read())).isEqualTo(Upstream.State.DOWN);
    u.onCheck(true, false, "status 200");
    assertThat(u.available(ticker.read())).isFalse();
    u.onCheck(true, false, "status 200");
    assertThat(u.state(ticker.read())).isEqualTo(Upstream.State.UP);
    assertThat(u.lastCheck()).isEqualTo("status 200");
  }

  @Test
  void health_successInBetween_resetsFailureStreak() {
    Upstream u = upstream(new TestLb());
    u.onCheck(false, false, "status 500");
    u.onCheck(false, false, "status 500");
    u.onCheck(true, false, "status 200");
    u.onCheck(false, false, "status 500");
    assertThat(u.available(ticker.read())).isTrue();
  }

  @Test
  void ready503_takesNoNewRequestsAtOnce() {
    Upstream u = upstream(new TestLb());
    u.onCheck(false, true, "status 503");
    assertThat(u.available(ticker.read())).isFalse();
    assertThat(u.state(ticker.read())).isEqualTo(Upstream.State.DRAINING);
  }

  @Test
  void passive_ejectsAfterConsecutiveFailures_forBackoff_thenDoubles() {
    Upstream u = upstream(new TestLb());
    assertThat(u.onFailure("status 502")).isFalse();
    u.onSuccess();
    assertThat(u.onFailure("status 502")).isFalse();
    assertThat(u.onFailure("connect failed")).isFalse();
    assertThat(u.onFailure("connect failed")).isTrue();
    assertThat(u.state(ticker.read())).isEqualTo(Upstream.State.EJECTED);
    ticker.advance(Duration.ofMillis(999));
    assertThat(u.available(ticker.read())).isFalse();
    ticker.advance(Duration.ofMillis(1));
    assertThat(u.available(ticker.read())).isTrue();
    // on probation: one more failure ejects again, for twice as long
    assertThat(u.onFailure("status 500")).isTrue();
    ticker.advance(Duration.ofMillis(1999));
    assertThat(u.available(ticker.read())).isFalse();
    ticker.advance(Duration.ofMillis(1));
    assertThat(u.available(ticker.read())).isTrue();
    assertThat(u.onFailure("status 500")).isTrue();
    ticker.advance(Duration.ofSeconds(4));
    // capped at max-backoff 4s
    assertThat(u.onFailure("status 500")).isTrue();
    ticker.advance(Duration.ofSeconds(4));
    assertThat(u.available(ticker.read())).isTrue();
  }

  @Test
  void passive_successOnProbation_resetsBackoff() {
    Upstream u = upstream(new TestLb());
    for (int i = 0; i < 3; i++) {
      u.onFailure("status 500");
    }
    ticker.advance(Duration.ofSeconds(1));
    u.onSuccess();
    assertThat(u.onFailure("status 500")).isFalse();
    assertThat(u.onFailure("status 500")).isFalse();
    assertThat(u.onFailure("status 500")).isTrue();
    ticker.advance(Duration.ofSeconds(1));
    assertThat(u.available(ticker.read())).isTrue();
  }

  @Test
  void passive_slowStartAfterEjection() {
    TestLb t = new TestLb();
    t.slowStart = Duration.ofSeconds(10);
    Upstream u = upstream(t);
    for (int i = 0; i < 3; i++) {
      u.onFailure("status 500");
    }
    ticker.advance(Duration.ofSeconds(1));
    assertThat(u.state(ticker.read())).isEqualTo(Upstream.State.SLOW_START);
    ticker.advance(Duration.ofSeconds(2));
    assertThat(u.effectiveWeight(ticker.read())).isEqualTo(0.2);
  }
}
