package com.foobar.lb;

import com.foobar.core.LbConfig;
import com.github.benmanes.caffeine.cache.Ticker;
import java.net.URI;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One backend as the balancer sees it: active health (rise/fall), draining, passive ejection with
 * doubling backoff and probation, slow start, requests in flight and a latency EWMA. Time comes
 * from the injected {@link Ticker} only.
 *
 * <p>A backend starts up (traffic flows at once; failing checks take it down). Log events: {@code
 * backend.up}, {@code backend.down}, {@code backend.ejected}, each with {@code backend} and {@code
 * reason}.
 *
 * <p>A configuration reload keeps the object, and with it the state, of a backend still listed:
 * {@link #configure} only changes its weight and the health, passive and slow-start settings.
 */
final class Upstream {
  private static final Logger log = LoggerFactory.getLogger(Upstream.class);

  /** Weight of the newest latency sample in the EWMA. */
  static final double EWMA_ALPHA = 0.3;

  /** A recovering backend starts at this share of its weight, so it is never starved entirely. */
  static final double SLOW_START_FLOOR = 0.01;

  /** What {@code /stats} shows; derived from the fields, in this order of precedence. */
  enum State {
    DRAINING,
    DOWN,
    EJECTED,
    SLOW_START,
    UP
  }

  private final URI url;
  private final String name;
  private final Ticker ticker;
  // changed by configure(); read without the lock by the balancer
  private volatile int weight;
  private volatile LbConfig.HealthConfig health;
  private volatile LbConfig.PassiveConfig passive;
  private volatile long slowStartNanos;

  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile double ewmaNanos;

  // guarded by this; volatile where the balancer reads without the lock
  private volatile boolean healthy = true;
  private volatile boolean draining;
  private volatile long ejectedUntil = Long.MIN_VALUE;
  private volatile long recoveringSince = Long.MIN_VALUE;
  private int okStreak;
  private int failStreak;
  private int passiveStreak;
  private boolean probation;
  private long nextBackoffNanos;
  private long stateSince;
  private String lastCheck = "none yet";

  Upstream(LbConfig.BackendRef ref, LbConfig lb, Ticker ticker) {
    this.url = ref.url();
    this.name = ref.url().toString();
    this.weight = ref.weight();
    this.ticker = ticker;
    this.health = lb.health();
    this.passive = lb.passive();
    this.slowStartNanos = lb.slowStart().toNanos();
    this.nextBackoffNanos = passive.backoff().toNanos();
    this.stateSince = ticker.read();
  }

  /**
   * Takes {@code ref}'s weight and {@code lb}'s health, passive and slow-start settings; health,
   * ejection, slow start, in-flight count and latency EWMA carry on.
   */
  synchronized void configure(LbConfig.BackendRef ref, LbConfig lb) {
    weight = ref.weight();
    health = lb.health();
    passive = lb.passive();
    slowStartNanos = lb.slowStart().toNanos();
    if (!probation) {
      nextBackoffNanos = passive.backoff().toNanos();
    }
  }

  URI url() {
    return url;
  }

  /** The URL as text, the {@code backend} field of log events and the meters' tag. */
  String name() {
    return name;
  }

  int weight() {
    return weight;
  }

  AtomicInteger inFlight() {
    return inFlight;
  }

  /** The latency EWMA in nanoseconds; 0 before the first answer. */
  double ewmaNanos() {
    return ewmaNanos;
  }

  /** Whether new requests may go here: healthy, not draining, not ejected. */
  boolean available(long now) {
    return healthy && !draining && !ejected(now);
  }

  private boolean ejected(long now) {
    long until = ejectedUntil;
    return until != Long.MIN_VALUE && now - until < 0;
  }

  /**
   * The weight to balance with: {@link #weight()}, or while slow-starting a share of it growing
   * linearly from {@value #SLOW_START_FLOOR} to 1 over {@code slow-start}.
   */
  double effectiveWeight(long now) {
    long since = recoveringSince;
    long ramp = slowStartNanos;
    int w = weight;
    if (ramp == 0 || since == Long.MIN_VALUE) {
      return w;
    }
    long elapsed = now - since;
    if (elapsed >= ramp) {
      return w;
    }
    double share = Math.max(SLOW_START_FLOOR, (double) Math.max(0, elapsed) / ramp);
    return w * share;
  }

  /** Records the latency of an answer into the EWMA. */
  void recordLatency(long nanos) {
    double old = ewmaNanos;
    ewmaNanos = old == 0 ? nanos : old + EWMA_ALPHA * (nanos - old);
  }

  /**
   * One active check's outcome.
   *
   * @param ok whether the check answered 2xx in time
   * @param drainingAnswer whether it answered 503 (the backend is draining): down at once
   * @param result what the check saw, e.g. {@code 200} or {@code connect refused}
   */
  synchronized void onCheck(boolean ok, boolean drainingAnswer, String result) {
    lastCheck = result;
    long now = ticker.read();
    if (ok) {
      failStreak = 0;
      okStreak++;
      draining = false;
      if (!healthy && okStreak >= health.rise()) {
        healthy = true;
        recoveringSince = now;
        stateSince = now;
        event("backend.up", okStreak + " successful checks");
      }
      return;
    }
    okStreak = 0;
    failStreak++;
    if (drainingAnswer && !draining) {
      draining = true;
      stateSince = now;
      event("backend.down", "draining: " + health.path() + " answered 503");
    }
    if (healthy && failStreak >= health.fall()) {
      healthy = false;
      stateSince = now;
      if (!drainingAnswer) {
        event("backend.down", failStreak + " failed checks: " + result);
      }
    }
  }

  /** A request this backend answered (below 500). Ends probation after an ejection. */
  synchronized void onSuccess() {
    passiveStreak = 0;
    if (probation) {
      probation = false;
      nextBackoffNanos = passive.backoff().toNanos();
    }
  }

  /**
   * A connect failure, reset or 5xx from real traffic. {@code passive.failures} in a row, or one
   * while on probation after an ejection, eject the backend for the current backoff, which then
   * doubles up to {@code passive.max-backoff}.
   *
   * @return whether this failure ejected the backend
   */
  synchronized boolean onFailure(String reason) {
    long now = ticker.read();
    if (ejected(now)) {
      return false;
    }
    passiveStreak++;
    if (passiveStreak < passive.failures() && !probation) {
      return false;
    }
    long backoff = nextBackoffNanos;
    ejectedUntil = now + backoff;
    recoveringSince = ejectedUntil;
    stateSince = now;
    probation = true;
    passiveStreak = 0;
    nextBackoffNanos = Math.min(2 * backoff, passive.maxBackoff().toNanos());
    event(
        "backend.ejected",
        reason
            + "; ejected for "
            + backoff / 1_000_000
            + " ms ("
            + passive.failures()
            + " failures)");
    return true;
  }

  synchronized State state(long now) {
    if (draining) {
      return State.DRAINING;
    }
    if (!healthy) {
      return State.DOWN;
    }
    if (ejected(now)) {
      return State.EJECTED;
    }
    if (effectiveWeight(now) < weight) {
      return State.SLOW_START;
    }
    return State.UP;
  }

  /** Nanoseconds since the state last changed. */
  synchronized long timeInState(long now) {
    long ejectEnd = ejectedUntil;
    long since =
        ejectEnd != Long.MIN_VALUE && now - ejectEnd >= 0 && ejectEnd - stateSince > 0
            ? ejectEnd
            : stateSince;
    return now - since;
  }

  synchronized String lastCheck() {
    return lastCheck;
  }

  private void event(String event, String reason) {
    var b = event.equals("backend.up") ? log.atInfo() : log.atWarn();
    b.addKeyValue("event", event)
        .addKeyValue("backend", name)
        .addKeyValue("reason", reason)
        .log("{} {}: {}", event, name, reason);
  }

  @Override
  public String toString() {
    return name;
  }

  static String lower(State s) {
    return s.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
