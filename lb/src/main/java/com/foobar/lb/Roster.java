package com.foobar.lb;

import com.foobar.core.LbConfig;
import com.github.benmanes.caffeine.cache.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lb's backends across configuration reloads. A backend still listed keeps its {@link Upstream}
 * (and so its health, ejection, slow start and latency state), a new one gets a pool, meters and
 * health checks, and a removed one retires: the balancer no longer picks it, and its pool closes
 * and its meters go once its last request in flight ended, at the latest {@code request-timeout}
 * after the removal. Listed again before that, it comes back as it was.
 *
 * <p>Log events {@code backend.added}, {@code backend.removed} and {@code backend.pool_closed},
 * each with {@code backend}.
 */
final class Roster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Roster.class);

  /** How often a removed backend is looked at until its last request ended. */
  private static final long RETIRE_POLL_MILLIS = 100;

  private final BalancingClient client;
  private final LbMeters meters;
  private final HealthChecker health;
  private final Ticker ticker;
  private final ScheduledExecutorService retirer;
  private volatile List<Upstream> current;
  // guarded by this
  private final List<Upstream> retiring = new ArrayList<>();

  /** Backends {@code initial} already have their pools, meters and health checks. */
  Roster(
      List<Upstream> initial,
      BalancingClient client,
      LbMeters meters,
      HealthChecker health,
      Ticker ticker) {
    this.current = List.copyOf(initial);
    this.client = client;
    this.meters = meters;
    this.health = health;
    this.ticker = ticker;
    this.retirer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "lb-retire");
              t.setDaemon(true);
              return t;
            });
  }

  /** The backends configured now, in configuration order. */
  List<Upstream> current() {
    return current;
  }

  /**
   * Makes {@code next.backends()} the configured backends and returns them; the caller then points
   * the balancer at them. The ones left out start retiring.
   */
  synchronized List<Upstream> apply(LbConfig next) {
    List<Upstream> leftover = new ArrayList<>(current);
    List<Upstream> upstreams = new ArrayList<>();
    for (LbConfig.BackendRef ref : next.backends()) {
      Upstream u = claim(leftover, ref);
      if (u == null && (u = claim(retiring, ref)) != null) {
        health.add(u);
        event("backend.added", u, "listed again before its pool closed");
      }
      if (u == null) {
        u = new Upstream(ref, next, ticker);
        client.add(u);
        meters.add(u);
        health.add(u);
        event("backend.added", u, "new in the configuration");
      }
      u.configure(ref, next);
      upstreams.add(u);
    }
    current = List.copyOf(upstreams);
    long deadline = ticker.read() + next.requestTimeout().toNanos();
    for (Upstream u : leftover) {
      health.remove(u);
      retiring.add(u);
      event(
          "backend.removed",
          u,
          "no new requests; its pool closes after its " + u.inFlight().get() + " in flight end");
      retirer.schedule(() -> retire(u, deadline), RETIRE_POLL_MILLIS, TimeUnit.MILLISECONDS);
    }
    return current;
  }

  private static Upstream claim(List<Upstream> from, LbConfig.BackendRef ref) {
    for (int i = 0; i < from.size(); i++) {
      if (from.get(i).url().equals(ref.url())) {
        return from.remove(i);
      }
    }
    return null;
  }

  /** Closes the pool of a removed backend once nothing is in flight there (or at the deadline). */
  private synchronized void retire(Upstream u, long deadline) {
    if (!retiring.contains(u)) {
      // listed again
      return;
    }
    int inFlight = u.inFlight().get();
    if (inFlight > 0 && ticker.read() - deadline < 0) {
      retirer.schedule(() -> retire(u, deadline), RETIRE_POLL_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    retiring.remove(u);
    client.remove(u);
    meters.remove(u);
    log.atInfo()
        .addKeyValue("event", "backend.pool_closed")
        .addKeyValue("backend", u.name())
        .addKeyValue("in_flight", inFlight)
        .log("pool of removed backend {} closed ({} requests still in flight)", u, inFlight);
  }

  private static void event(String event, Upstream u, String reason) {
    log.atInfo()
        .addKeyValue("event", event)
        .addKeyValue("backend", u.name())
        .addKeyValue("reason", reason)
        .log("{} {}: {}", event, u.name(), reason);
  }

  @Override
  public void close() {
    retirer.shutdownNow();
  }
}
