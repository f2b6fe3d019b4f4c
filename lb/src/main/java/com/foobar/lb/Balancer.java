package com.foobar.lb;

import com.foobar.core.LbConfig;
import com.github.benmanes.caffeine.cache.Ticker;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Picks the backend of one request among those {@link Upstream#available available}, skipping the
 * ones a request already tried, by {@code lb.balance}:
 *
 * <ul>
 *   <li>{@code round-robin}: smooth weighted round-robin (nginx's): over any run of total-weight
 *       picks each backend gets exactly its weight, interleaved;
 *   <li>{@code least-conn}: the lowest requests in flight per unit of effective weight;
 *   <li>{@code p2c}: two distinct backends drawn at random by effective weight; the one with the
 *       lower {@code (in-flight + 1) × latency EWMA} wins (a backend without latency yet wins).
 * </ul>
 *
 * Every algorithm uses the effective (slow-start) weight.
 */
final class Balancer {
  private final List<Upstream> upstreams;
  private final LbConfig.Balance balance;
  private final Ticker ticker;
  private final RandomGenerator random;
  private final double[] current;
  private int rotation;

  Balancer(
      List<Upstream> upstreams, LbConfig.Balance balance, Ticker ticker, RandomGenerator random) {
    this.upstreams = List.copyOf(upstreams);
    this.balance = balance;
    this.ticker = ticker;
    this.random = random;
    this.current = new double[upstreams.size()];
  }

  List<Upstream> upstreams() {
    return upstreams;
  }

  /** The backend for the next request, or empty when none is available outside {@code tried}. */
  Optional<Upstream> pick(Collection<Upstream> tried) {
    long now = ticker.read();
    return switch (balance) {
      case ROUND_ROBIN -> roundRobin(tried, now);
      case LEAST_CONN -> leastConn(tried, now);
      case P2C -> p2c(tried, now);
    };
  }

  private boolean eligible(Upstream u, Collection<Upstream> tried, long now) {
    return u.available(now) && !tried.contains(u);
  }

  private synchronized Optional<Upstream> roundRobin(Collection<Upstream> tried, long now) {
    int best = -1;
    double total = 0;
    for (int i = 0; i < upstreams.size(); i++) {
      Upstream u = upstreams.get(i);
      if (!eligible(u, tried, now)) {
        continue;
      }
      double w = u.effectiveWeight(now);
      current[i] += w;
      total += w;
      if (best < 0 || current[i] > current[best]) {
        best = i;
      }
    }
    if (best < 0) {
      return Optional.empty();
    }
    current[best] -= total;
    return Optional.of(upstreams.get(best));
  }

  private Optional<Upstream> leastConn(Collection<Upstream> tried, long now) {
    int n = upstreams.size();
    int start;
    synchronized (this) {
      // ties go round, so equal idle backends share the load
      start = rotation = (rotation + 1) % n;
    }
    Upstream best = null;
    double bestLoad = Double.MAX_VALUE;
    for (int k = 0; k < n; k++) {
      Upstream u = upstreams.get((start + k) % n);
      if (!eligible(u, tried, now)) {
        continue;
      }
      double load = u.inFlight().get() / u.effectiveWeight(now);
      if (load < bestLoad) {
        best = u;
        bestLoad = load;
      }
    }
    return Optional.ofNullable(best);
  }

  private Optional<Upstream> p2c(Collection<Upstream> tried, long now) {
    Upstream[] candidates = new Upstream[upstreams.size()];
    double[] weights = new double[candidates.length];
    int n = 0;
    double total = 0;
    for (Upstream u : upstreams) {
      if (eligible(u, tried, now)) {
        candidates[n] = u;
        weights[n] = u.effectiveWeight(now);
        total += weights[n];
        n++;
      }
    }
    if (n == 0) {
      return Optional.empty();
    }
    if (n == 1) {
      return Optional.of(candidates[0]);
    }
    int a = draw(weights, n, total, -1);
    int b = draw(weights, n, total - weights[a], a);
    return Optional.of(
        score(candidates[a]) <= score(candidates[b]) ? candidates[a] : candidates[b]);
  }

  private int draw(double[] weights, int n, double total, int skip) {
    double r = random.nextDouble() * total;
    int last = -1;
    for (int i = 0; i < n; i++) {
      if (i == skip) {
        continue;
      }
      last = i;
      r -= weights[i];
      if (r < 0) {
        return i;
      }
    }
    return last;
  }

  private static double score(Upstream u) {
    return (u.inFlight().get() + 1) * u.ewmaNanos();
  }
}
