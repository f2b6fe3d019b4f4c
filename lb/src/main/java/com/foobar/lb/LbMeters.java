package com.foobar.lb;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The lb's meters, tagged {@code backend} where they are per backend: {@code
 * foobar.lb.backend.requests} (timer of answered attempts, with p50/p99), {@code
 * foobar.lb.backend.errors}, {@code foobar.lb.backend.in.flight}, {@code foobar.lb.backend.up} (1
 * when it takes new requests), {@code foobar.lb.backend.ejections}; {@code foobar.lb.retries} and
 * {@code foobar.lb.retry.budget.exhausted}. Also the request rates {@code /stats} shows, and its
 * per listener sums of meters core registers (connection caps, TLS handshakes).
 */
final class LbMeters {
  private final MeterRegistry registry;
  private final Ticker ticker;
  private final Map<Upstream, PerBackend> backends = new ConcurrentHashMap<>();
  private final Counter retries;
  private final Counter exhausted;

  private record PerBackend(
      Timer latency, Counter errors, Counter ejections, WindowCounter rate, List<Meter> gauges) {}

  LbMeters(MeterRegistry registry, List<Upstream> upstreams, Ticker ticker) {
    this.registry = registry;
    this.ticker = ticker;
    upstreams.forEach(this::add);
    retries =
        Counter.builder("foobar.lb.retries")
            .description("Requests retried on another backend")
            .register(registry);
    exhausted =
        Counter.builder("foobar.lb.retry.budget.exhausted")
            .description("Retries refused because the retry budget was spent")
            .register(registry);
  }

  /** Registers the meters of a backend. */
  void add(Upstream u) {
    String tag = u.name();
    Timer latency =
        Timer.builder("foobar.lb.backend.requests")
            .description("Requests a backend answered, by their time from pick to last byte")
            .tag("backend", tag)
            .publishPercentiles(0.5, 0.99)
            .distributionStatisticExpiry(Duration.ofMinutes(1))
            .register(registry);
    Counter errors =
        Counter.builder("foobar.lb.backend.errors")
            .description("Connect failures, resets and 5xx answers of a backend")
            .tag("backend", tag)
            .register(registry);
    Counter ejections =
        Counter.builder("foobar.lb.backend.ejections")
            .description("Times a backend was ejected by passive checks")
            .tag("backend", tag)
            .register(registry);
    Gauge inFlight =
        Gauge.builder("foobar.lb.backend.in.flight", u, x -> x.inFlight().get())
            .description("Requests in flight to a backend")
            .tag("backend", tag)
            .register(registry);
    Gauge up =
        Gauge.builder("foobar.lb.backend.up", u, x -> x.available(ticker.read()) ? 1 : 0)
            .description("1 when a backend takes new requests (healthy, not draining or ejected)")
            .tag("backend", tag)
            .register(registry);
    backends.put(
        u,
        new PerBackend(
            latency,
            errors,
            ejections,
            new WindowCounter(Duration.ofSeconds(10), 10, ticker),
            List.of(inFlight, up)));
  }

  /** Unregisters the meters of a backend that left the configuration. */
  void remove(Upstream u) {
    PerBackend b = backends.remove(u);
    if (b != null) {
      registry.remove(b.latency());
      registry.remove(b.errors());
      registry.remove(b.ejections());
      b.gauges().forEach(registry::remove);
    }
  }

  // a request to a removed backend may end after its meters went: it is not counted

  void request(Upstream u, long nanos) {
    PerBackend b = backends.get(u);
    if (b != null) {
      b.latency().record(nanos, TimeUnit.NANOSECONDS);
      b.rate().add();
    }
  }

  /**
   * An attempt on {@code u} ended with a response of {@code status}: a 5xx counts as an error and
   * towards passive ejection, anything else as a success whose latency feeds the balancer.
   */
  void answered(Upstream u, int status, long nanos) {
    request(u, nanos);
    if (status >= 500) {
      failed(u, "status " + status);
    } else {
      u.recordLatency(nanos);
      u.onSuccess();
    }
  }

  /** An attempt on {@code u} failed for {@code reason}: an error, and towards ejection. */
  void failed(Upstream u, String reason) {
    error(u);
    if (u.onFailure(reason)) {
      ejection(u);
    }
  }

  void error(Upstream u) {
    PerBackend b = backends.get(u);
    if (b != null) {
      b.errors().increment();
    }
  }

  void ejection(Upstream u) {
    PerBackend b = backends.get(u);
    if (b != null) {
      b.ejections().increment();
    }
  }

  void retry() {
    retries.increment();
  }

  void budgetExhausted() {
    exhausted.increment();
  }

  double retries() {
    return retries.count();
  }

  double budgetExhaustions() {
    return exhausted.count();
  }

  long requests(Upstream u) {
    PerBackend b = backends.get(u);
    return b == null ? 0 : b.latency().count();
  }

  long errors(Upstream u) {
    PerBackend b = backends.get(u);
    return b == null ? 0 : (long) b.errors().count();
  }

  double requestsPerSecond(Upstream u) {
    PerBackend b = backends.get(u);
    return b == null ? 0 : b.rate().perSecond();
  }

  /**
   * The sum of the counters (or gauges) called {@code meter} tagged {@code listener}, over their
   * other tags; 0 when there are none.
   */
  double listenerSum(String meter, String listener) {
    double sum = 0;
    for (var m : registry.find(meter).tag("listener", listener).meters()) {
      if (m instanceof Counter c) {
        sum += c.count();
      } else if (m instanceof FunctionCounter c) {
        sum += c.count();
      } else if (m instanceof Gauge g) {
        sum += g.value();
      }
    }
    return sum;
  }

  /** The latency percentile in milliseconds (0.5 or 0.99), NaN before any answer. */
  double percentileMillis(Upstream u, double percentile) {
    PerBackend b = backends.get(u);
    if (b == null) {
      return Double.NaN;
    }
    for (ValueAtPercentile v : b.latency().takeSnapshot().percentileValues()) {
      if (v.percentile() == percentile) {
        return v.value(TimeUnit.MILLISECONDS);
      }
    }
    return Double.NaN;
  }
}
