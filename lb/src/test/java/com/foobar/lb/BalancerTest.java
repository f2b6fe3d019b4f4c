package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.LbConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BalancerTest {
  private final TestLb.FakeTicker ticker = new TestLb.FakeTicker();

  private List<Upstream> upstreams(TestLb t) {
    LbConfig c = t.build();
    return c.backends().stream().map(r -> new Upstream(r, c, ticker)).toList();
  }

  private static Map<String, Integer> count(Balancer b, int n) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(b.pick(Set.of()).orElseThrow().name(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void roundRobin_isExactByWeight_overWholeCycles() {
    List<Upstream> ups =
        upstreams(
            new TestLb()
                .backend("http://a:1", 5)
                .backend("http://b:1", 1)
                .backend("http://c:1", 2));
    Balancer b = new Balancer(ups, LbConfig.Balance.ROUND_ROBIN, ticker, new Random(1));
    assertThat(count(b, 800))
        .containsEntry("http://a:1", 500)
        .containsEntry("http://b:1", 100)
        .containsEntry("http://c:1", 200);
  }

  @Test
  void roundRobin_interleaves_ratherThanBursting() {
    List<Upstream> ups = upstreams(new TestLb().backend("http://a:1", 2).backend("http://b:1", 1));
    Balancer b = new Balancer(ups, LbConfig.Balance.ROUND_ROBIN, ticker, new Random(1));
    StringBuilder seq = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      seq.append(b.pick(Set.of()).orElseThrow().name().charAt(7));
    }
    assertThat(seq.toString()).isEqualTo("abaaba");
  }

  @Test
  void leastConn_prefersIdleBackend() {
    List<Upstream> ups = upstreams(new TestLb().backend("http://a:1", 1).backend("http://b:1", 1));
    ups.get(0).inFlight().set(3);
    Balancer b = new Balancer(ups, LbConfig.Balance.LEAST_CONN, ticker, new Random(1));
    assertThat(count(b, 50)).containsOnlyKeys("http://b:1");
  }

  @Test
  void leastConn_weighsInFlightByWeight() {
    List<Upstream> ups = upstreams(new TestLb().backend("http://a:1", 4).backend("http://b:1", 1));
    ups.get(0).inFlight().set(3);
    ups.get(1).inFlight().set(1);
    Balancer b = new Balancer(ups, LbConfig.Balance.LEAST_CONN, ticker, new Random(1));
    assertThat(b.pick(Set.of()).orElseThrow().name()).isEqualTo("http://a:1");
  }

  @Test
  void p2c_avoidsSlowBackend() {
    List<Upstream> ups =
        upstreams(new TestLb().backend("http://fast:1", 1).backend("http://slow:1", 1));
    ups.get(0).recordLatency(Duration.ofMillis(1).toNanos());
    ups.get(1).recordLatency(Duration.ofMillis(200).toNanos());
    Balancer b = new Balancer(ups, LbConfig.Balance.P2C, ticker, new Random(7));
    assertThat(count(b, 100)).containsOnlyKeys("http://fast:1");
  }

  @Test
  void p2c_spreadsEqualBackends() {
    List<Upstream> ups =
        upstreams(
            new TestLb()
                .backend("http://a:1", 1)
                .backend("http://b:1", 1)
                .backend("http://c:1", 1));
    for (Upstream u : ups) {
      u.recordLatency(1_000_000);
    }
    Balancer b = new Balancer(ups, LbConfig.Balance.P2C, ticker, new Random(3));
    assertThat(count(b, 300)).hasSize(3);
  }

  @Test
  void pick_skipsTriedAndUnavailable_andIsEmptyWhenNoneLeft() {
    List<Upstream> ups = upstreams(new TestLb().backend("http://a:1", 1).backend("http://b:1", 1));
    for (int i = 0; i < 3; i++) {
      ups.get(0).onCheck(false, false, "connect refused");
    }
    for (LbConfig.Balance algo : LbConfig.Balance.values()) {
      Balancer b = new Balancer(ups, algo, ticker, new Random(1));
      assertThat(b.pick(Set.of())).contains(ups.get(1));
      assertThat(b.pick(Set.of(ups.get(1)))).isEmpty();
    }
  }

  @Test
  void slowStart_rampsShareOfRecoveredBackend() {
    TestLb t = new TestLb().backend("http://a:1", 1).backend("http://b:1", 1);
    t.slowStart = Duration.ofSeconds(10);
    List<Upstream> ups = upstreams(t);
    Upstream a = ups.get(0);
    for (int i = 0; i < 3; i++) {
      a.onCheck(false, false, "status 500");
    }
    a.onCheck(true, false, "status 200");
    a.onCheck(true, false, "status 200");
    assertThat(a.state(ticker.read())).isEqualTo(Upstream.State.SLOW_START);
    assertThat(a.effectiveWeight(ticker.read())).isEqualTo(Upstream.SLOW_START_FLOOR);
    Balancer b = new Balancer(ups, LbConfig.Balance.ROUND_ROBIN, ticker, new Random(1));
    ticker.advance(Duration.ofSeconds(5));
    assertThat(a.effectiveWeight(ticker.read())).isEqualTo(0.5);
    assertThat(count(b, 300).get("http://a:1")).isEqualTo(100);
    ticker.advance(Duration.ofSeconds(5));
    assertThat(a.effectiveWeight(ticker.read())).isEqualTo(1.0);
    assertThat(a.state(ticker.read())).isEqualTo(Upstream.State.UP);
  }
}
