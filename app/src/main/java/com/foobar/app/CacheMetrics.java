package com.foobar.app;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import com.github.benmanes.caffeine.cache.stats.StatsCounter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The memory cache's meters: {@code foobar.static.cache.hits}, {@code .misses}, {@code .evictions}
 * (counters) and {@code foobar.static.cache.bytes}, {@code .entries} (gauges). Fed by Caffeine as
 * its {@link StatsCounter}.
 */
final class CacheMetrics implements StatsCounter {

  private final Counter hits;
  private final Counter misses;
  private final Counter evictions;
  private final Counter evictedBytes;

  CacheMetrics(MeterRegistry registry) {
    hits = counter(registry, "hits", "Static file requests served from the memory cache");
    misses = counter(registry, "misses", "Static file requests that missed the memory cache");
    evictions = counter(registry, "evictions", "Files evicted from the memory cache");
    evictedBytes =
        Counter.builder("foobar.static.cache.evicted")
            .description("Bytes evicted from the memory cache")
            .baseUnit("bytes")
            .register(registry);
  }

  private static Counter counter(MeterRegistry registry, String name, String description) {
    return Counter.builder("foobar.static.cache." + name)
        .description(description)
        .register(registry);
  }

  /** Registers the size gauges; the registry holds {@code cache} weakly. */
  static void bindGauges(MeterRegistry registry, Cache<String, CacheEntry> cache) {
    Gauge.builder(
            "foobar.static.cache.bytes",
            cache,
            c -> c.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L))
        .description("bytes held by the static file memory cache")
        .baseUnit("bytes")
        .register(registry);
    Gauge.builder("foobar.static.cache.entries", cache, Cache::estimatedSize)
        .description("files held by the static file memory cache")
        .register(registry);
  }

  @Override
  public void recordHits(int count) {
    hits.increment(count);
  }

  @Override
  public void recordMisses(int count) {
    misses.increment(count);
  }

  @Override
  public void recordLoadSuccess(long loadTime) {
    // entries are put explicitly after the safety checks, never loaded by the cache
  }

  @Override
  public void recordLoadFailure(long loadTime) {
    // as above: no cache loader
  }

  @Override
  public void recordEviction(int weight, RemovalCause cause) {
    evictions.increment();
    evictedBytes.increment(weight);
  }

  @Override
  public CacheStats snapshot() {
    return CacheStats.of(
        (long) hits.count(),
        (long) misses.count(),
        0,
        0,
        0,
        (long) evictions.count(),
        (long) evictedBytes.count());
  }
}
