package com.foobar.core;

import com.foobar.core.LbConfig.RateLimitConfig;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.StatusCodes;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A token bucket per client IP ({@link ClientAddress#of}): {@code burst} requests at once, refilled
 * at {@code rate} per second. A request finding the bucket empty gets 429 with {@code Retry-After}
 * (whole seconds until a token is available, at least 1) and a small JSON body, and is counted in
 * {@code foobar.ratelimit.rejected{listener}}.
 *
 * <p>Each bucket is one {@code long}, the time at which it will be full again (GCRA), updated by
 * compare-and-set: no lock on the request path. A bucket left alone until it is full again is
 * indistinguishable from a new one, so it expires then; the number of buckets is also capped, so an
 * attacker spraying source addresses cannot exhaust memory (a bucket evicted by the cap starts full
 * again).
 *
 * <p>Rejections are logged as event {@code ratelimit.rejected} at most once per second per
 * listener, with the client IP of that rejection and how many were not logged since, because an
 * attacker could otherwise fill the logs.
 */
public final class RateLimitHandler implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(RateLimitHandler.class);
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  /** Buckets kept at most by {@link #wrap}: about 100 bytes each. */
  public static final int MAX_BUCKETS = 100_000;

  private final long interval;
  private final long capacity;
  private final LongSupplier ticker;
  private final Cache<InetAddress, AtomicLong> buckets;
  private final Counter rejected;
  private final String listener;
  private final AtomicLong nextLog;
  private final AtomicLong unlogged = new AtomicLong();
  private final HttpHandler next;

  private RateLimitHandler(
      RateLimitConfig config,
      int maxBuckets,
      LongSupplier ticker,
      MeterRegistry registry,
      String listener,
      HttpHandler next) {
    if (config.rate() < 1 || config.burst() < 1) {
      throw new IllegalArgumentException(
          "rate limit needs rate and burst of at least 1, got rate "
              + config.rate()
              + " and burst "
              + config.burst());
    }
    this.interval = SECOND / config.rate();
    this.capacity = interval * config.burst();
    this.ticker = ticker;
    this.buckets =
        Caffeine.newBuilder()
            .expireAfterAccess(Duration.ofNanos(capacity))
            .maximumSize(maxBuckets)
            .ticker(ticker::getAsLong)
            // maintenance on the calling thread: no pool thread, and tests see it at once
            .executor(Runnable::run)
            .build();
    this.rejected =
        Counter.builder("foobar.ratelimit.rejected")
            .description("Requests refused with 429 by the per-client rate limit")
            .tag("listener", listener)
            .register(registry);
    this.listener = listener;
    this.nextLog = new AtomicLong(ticker.getAsLong());
    this.next = next;
  }

  /**
   * Limits {@code next} per client IP; with {@code config.enabled()} false, returns {@code next}
   * itself.
   *
   * @param config rate (tokens per second, at least 1) and burst (bucket size, at least 1)
   * @param ticker nanoseconds from an arbitrary origin, as {@link System#nanoTime}
   * @param listener the {@code listener} tag of the counter and the log event
   * @throws IllegalArgumentException when enabled with a rate or burst below 1
   */
  public static HttpHandler wrap(
      RateLimitConfig config,
      LongSupplier ticker,
      MeterRegistry registry,
      String listener,
      HttpHandler next) {
    return config.enabled() ? limiting(config, ticker, registry, listener, next) : next;
  }

  /**
   * As {@link #wrap} for an enabled limit, as a {@link RateLimitHandler}: an engine that serves
   * some of the listener's requests itself ({@link HttpServerBuilder#takeover}) limits them with
   * the same buckets through {@link #admit}.
   *
   * @throws IllegalArgumentException when the limit is disabled or its rate or burst is below 1
   */
  public static RateLimitHandler limiting(
      RateLimitConfig config,
      LongSupplier ticker,
      MeterRegistry registry,
      String listener,
      HttpHandler next) {
    if (!config.enabled()) {
      throw new IllegalArgumentException("the rate limit is disabled");
    }
    return new RateLimitHandler(config, MAX_BUCKETS, ticker, registry, listener, next);
  }

  static RateLimitHandler create(
      RateLimitConfig config,
      int maxBuckets,
      LongSupplier ticker,
      MeterRegistry registry,
      HttpHandler next) {
    return new RateLimitHandler(config, maxBuckets, ticker, registry, "test", next);
  }

  @Override
  public void handleRequest(HttpServerExchange exchange) throws Exception {
    InetAddress client = ClientAddress.of(exchange);
    long seconds = admit(client);
    if (seconds == 0) {
      next.handleRequest(exchange);
      return;
    }
    exchange.setStatusCode(StatusCodes.TOO_MANY_REQUESTS);
    exchange.getResponseHeaders().put(Headers.RETRY_AFTER, seconds);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange.getResponseSender().send(body(seconds));
  }

  /**
   * Takes a token for a request of {@code client}, or counts (and, sampled, logs) its rejection.
   *
   * @return 0 when the request may go on, else the {@code Retry-After} seconds of its 429
   */
  public long admit(InetAddress client) {
    long wait = take(client);
    if (wait == 0) {
      return 0;
    }
    long seconds = Math.max(1, (wait + SECOND - 1) / SECOND);
    rejected.increment();
    logSampled(client, seconds);
    return seconds;
  }

  /**
   * Gives back the token {@link #admit} took for a request of {@code client} that goes on to be
   * admitted again: an engine that hands a request it admitted to the listener's chain, which
   * limits every request it serves.
   */
  public void refund(InetAddress client) {
    AtomicLong full = buckets.getIfPresent(client);
    if (full != null) {
      // earlier than now only means full: take() counts from now
      full.addAndGet(-interval);
    }
  }

  /** The JSON body of a 429 with {@code Retry-After: seconds}. */
  public static String body(long seconds) {
    return "{\"error\":\"too many requests\",\"retry-after\":" + seconds + "}\n";
  }

  /**
   * Takes a token of {@code client}'s bucket.
   *
   * @return 0 when a token was taken, else nanoseconds until one is available
   */
  long take(InetAddress client) {
    long now = ticker.getAsLong();
    // full is the time at which the bucket holds burst tokens again
    AtomicLong full = buckets.get(client, c -> new AtomicLong(now));
    while (true) {
      long current = full.get();
      long after = Math.max(current, now) + interval;
      long debt = after - now;
      if (debt > capacity) {
        return debt - capacity;
      }
      if (full.compareAndSet(current, after)) {
        return 0;
      }
    }
  }

  /** Buckets held now, after expiring idle ones. */
  long buckets() {
    buckets.cleanUp();
    return buckets.estimatedSize();
  }

  private void logSampled(InetAddress client, long retryAfter) {
    long now = ticker.getAsLong();
    long due = nextLog.get();
    if (now - due < 0 || !nextLog.compareAndSet(due, now + SECOND)) {
      unlogged.incrementAndGet();
      return;
    }
    log.atWarn()
        .addKeyValue("event", "ratelimit.rejected")
        .addKeyValue("listener", listener)
        .addKeyValue("client", client.getHostAddress())
        .addKeyValue("retry_after_s", retryAfter)
        .addKeyValue("not_logged", unlogged.getAndSet(0))
        .log("request from {} over the rate limit", client.getHostAddress());
  }
}
