package com.foobar.replication;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.replication.ReplicaSelector.Server;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReplicaSelectorTest {
  private static final Server ONE = new Server("replica-1", "127.0.0.1:3307");
  private static final Server TWO = new Server("replica-2", "127.0.0.1:3308");
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final ReplicaSelector selector =
      new ReplicaSelector(List.of(ONE, TWO), Duration.ofSeconds(2), nanos::get);

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  @Test
  void pick_goesRoundRobin_overUpReplicas() {
    assertThat(List.of(selector.pick(), selector.pick(), selector.pick()))
        .containsExactly(Optional.of(ONE), Optional.of(TWO), Optional.of(ONE));
    assertThat(selector.up(ONE)).isTrue();
  }

  @Test
  void failed_skipsTheReplica_untilRetryHasPassed() {
    selector.failed(ONE, "Communications link failure");

    assertThat(selector.up(ONE)).isFalse();
    for (int i = 0; i < 4; i++) {
      assertThat(selector.pick()).contains(TWO);
    }
    advance(Duration.ofMillis(1999));
    assertThat(List.of(selector.pick(), selector.pick())).containsOnly(Optional.of(TWO));

    advance(Duration.ofMillis(1));
    assertThat(List.of(selector.pick(), selector.pick())).contains(Optional.of(ONE));
  }

  @Test
  void afterRetry_onlyOneReadProbes_theOthersKeepSkipping() {
    ReplicaSelector single = new ReplicaSelector(List.of(ONE), Duration.ofSeconds(2), nanos::get);
    single.failed(ONE, "refused");
    assertThat(single.pick()).isEmpty();

    advance(Duration.ofSeconds(2));

    assertThat(single.pick()).contains(ONE);
    assertThat(single.pick()).as("a second read while the probe runs").isEmpty();
    assertThat(single.up(ONE)).isFalse();
  }

  @Test
  void probeThatFails_waitsAnotherRetry_probeThatSucceeds_marksUp() {
    ReplicaSelector single = new ReplicaSelector(List.of(ONE), Duration.ofSeconds(2), nanos::get);
    single.failed(ONE, "refused");
    advance(Duration.ofSeconds(2));
    assertThat(single.pick()).contains(ONE);

    single.failed(ONE, "refused again");
    advance(Duration.ofMillis(1500));
    assertThat(single.pick()).isEmpty();
    advance(Duration.ofMillis(500));
    assertThat(single.pick()).contains(ONE);

    single.succeeded(ONE);
    assertThat(single.up(ONE)).isTrue();
    assertThat(List.of(single.pick(), single.pick())).containsOnly(Optional.of(ONE));
  }

  @Test
  void skipped_saysSinceWhenAndWhenTheRetryComes() {
    selector.failed(ONE, "Communications link failure");
    advance(Duration.ofMillis(800));

    assertThat(selector.skipped())
        .isEqualTo(
            "replica-1 (127.0.0.1:3307) skipped: down since 800ms ago (Communications link"
                + " failure), retry in 1.2s; replica-2 (127.0.0.1:3308) up");
  }

  @Test
  void skipped_withoutReplicas_saysSo() {
    assertThat(new ReplicaSelector(List.of(), Duration.ofSeconds(1), nanos::get).skipped())
        .isEqualTo("no replicas configured");
  }

  @Test
  void failedAgain_whileDown_keepsTheFirstDownTime() {
    selector.failed(ONE, "first");
    advance(Duration.ofSeconds(3));
    selector.failed(ONE, "second");

    assertThat(selector.skipped())
        .startsWith(
            "replica-1 (127.0.0.1:3307) skipped: down since 3.0s ago (second), retry in 2.0s");
  }

  @Test
  void shouldLog_oncePerRetry_perKey() {
    assertThat(selector.shouldLog("replica-1")).isTrue();
    assertThat(selector.shouldLog("replica-1")).isFalse();
    assertThat(selector.shouldLog("none")).isTrue();

    advance(Duration.ofMillis(1999));
    assertThat(selector.shouldLog("replica-1")).isFalse();
    advance(Duration.ofMillis(1));
    assertThat(selector.shouldLog("replica-1")).isTrue();
  }
}
