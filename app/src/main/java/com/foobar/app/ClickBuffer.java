package com.foobar.app;

import com.foobar.replication.DatabaseException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * Counts clicks in memory and adds them to the primary in one batch per {@code interval}, so a
 * redirect never waits for a write. A batch that fails is put back and retried at the next flush;
 * {@link #close()} flushes what is left, so no counted click is lost on a graceful shutdown.
 */
final class ClickBuffer implements AutoCloseable {
  private final LinkStore store;
  private final Logger log;
  // merge and remove are atomic per key, so a click is either in a batch or still here
  private final ConcurrentHashMap<String, Long> counts = new ConcurrentHashMap<>();
  private final ScheduledExecutorService flusher;
  private final Counter flushed;
  private final Counter failures;

  ClickBuffer(LinkStore store, Duration interval, Logger log, MeterRegistry registry) {
    this.store = store;
    this.log = log;
    this.flushed =
        Counter.builder("foobar.app.links.clicks.flushed")
            .description("clicks written to the primary")
            .register(registry);
    this.failures =
        Counter.builder("foobar.app.links.clicks.flush.failures")
            .description("batches of clicks that could not be written (kept for the next one)")
            .register(registry);
    Gauge.builder("foobar.app.links.clicks.pending.codes", counts, Map::size)
        .description("codes with clicks counted but not yet written")
        .register(registry);
    this.flusher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "links-click-flusher");
              t.setDaemon(true);
              return t;
            });
    long ms = interval.toMillis();
    flusher.scheduleWithFixedDelay(this::flushQuietly, ms, ms, TimeUnit.MILLISECONDS);
  }

  /** Counts one click on {@code code}. */
  void count(String code) {
    counts.merge(code, 1L, Long::sum);
  }

  /** Clicks on {@code code} counted but not yet written. */
  long pending(String code) {
    return counts.getOrDefault(code, 0L);
  }

  /**
   * Writes every counted click in one transaction.
   *
   * @throws DatabaseException when the write failed; the clicks are counted again
   */
  synchronized void flush() {
    Map<String, Long> batch = new HashMap<>();
    for (String code : counts.keySet()) {
      Long n = counts.remove(code);
      if (n != null) {
        batch.put(code, n);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      store.addClicks(batch);
      flushed.increment(batch.values().stream().mapToLong(Long::longValue).sum());
    } catch (RuntimeException e) {
      batch.forEach((code, n) -> counts.merge(code, n, Long::sum));
      failures.increment();
      throw e;
    }
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (RuntimeException e) {
      log.atWarn()
          .addKeyValue("event", "links.flush_failed")
          .addKeyValue("pending_codes", counts.size())
          .setCause(e)
          .log("click counts not written; kept for the next flush: {}", e.getMessage());
    }
  }

  /** Stops the timer and writes what is left. */
  @Override
  public void close() {
    flusher.shutdown();
    try {
      flusher.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    flush();
  }
}
