package com.foobar.replication;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Locale;

/** Meters of database transactions, shared by every {@link Database}. */
final class TxMetrics {
  private TxMetrics() {}

  /**
   * {@code foobar.db.tx}: time of whole transactions (borrowing the connection included), by {@code
   * kind} (read/write), {@code route} (primary/replica/embedded) and {@code server} (pool).
   */
  static Timer timer(MeterRegistry registry, String kind, Tx.Route route, String server) {
    return Timer.builder("foobar.db.tx")
        .description("database transactions, connection wait included")
        .tag("kind", kind)
        .tag("route", route.name().toLowerCase(Locale.ROOT))
        .tag("server", server)
        .publishPercentileHistogram(false)
        .register(registry);
  }
}
