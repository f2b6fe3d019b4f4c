package com.foobar.app;

import com.foobar.core.StaticConfig;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.MeterRegistry;
import io.undertow.server.HttpHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The backend's static file server, as an Undertow {@link HttpHandler}.
 *
 * <p>Serves the files under a root directory for GET and HEAD ({@code OPTIONS}: 204, anything else:
 * 405, both with {@code Allow: GET, HEAD, OPTIONS}), on the exchange's relative path. It answers
 * like nginx: index files and a 301 to add a directory's trailing slash, strong {@code ETag}s of
 * the form {@code "<mtime hex>-<size hex>"}, {@code Last-Modified}, conditional requests ({@code
 * If-None-Match} over {@code If-Modified-Since}), byte ranges (single, multipart, {@code If-Range};
 * a malformed {@code Range} is ignored), {@code .br}/{@code .gz} siblings and gzip of text types,
 * {@code Cache-Control} by path glob, the root's {@code 404.html} as the body of 404s. Paths with
 * {@code ..}, NUL, backslashes or encoded separators, and paths or symlinks that lead outside the
 * root, are 404.
 *
 * <p>Files up to {@code memory-cache.max-file-size} are held in a memory cache bounded by {@code
 * memory-cache.max-bytes} and served on the IO thread; a cached file is checked on disk again (size
 * and modification time) once it has been served for {@code memory-cache.revalidate}. Larger files
 * are sent zero-copy from a worker thread. Meters are registered under {@code
 * foobar.static.cache.*}.
 */
public final class StaticFiles {

  private StaticFiles() {}

  /**
   * A handler serving {@code root} with the given settings; {@code config.root()} is not consulted.
   *
   * @param ticker the time source for revalidation, e.g. {@link Ticker#systemTicker()}
   * @param registry where the cache meters are registered
   * @throws IllegalArgumentException when {@code root} is not an existing, readable directory
   */
  public static HttpHandler handler(
      StaticConfig config, Path root, Ticker ticker, MeterRegistry registry) {
    Path realRoot;
    try {
      realRoot = root.toRealPath();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "backend.static.root must be an existing directory, got " + root + " (" + e + ")", e);
    }
    if (!Files.isDirectory(realRoot)) {
      throw new IllegalArgumentException(
          "backend.static.root must be a directory, got " + root + " (not a directory)");
    }
    CacheMetrics metrics = new CacheMetrics(registry);
    Cache<String, CacheEntry> cache =
        Caffeine.newBuilder()
            .maximumWeight(config.memoryCache().maxBytes().bytes())
            .weigher((String path, CacheEntry entry) -> entry.weight)
            .recordStats(() -> metrics)
            // maintenance on the calling thread: handing it to the common pool costs a context
            // switch on the IO thread's core and shows up in tail latency
            .executor(Runnable::run)
            .build();
    CacheMetrics.bindGauges(registry, cache);
    return new StaticHandler(
        cache,
        new SiteFiles(config, realRoot),
        new Responder(UUID.randomUUID().toString().replace("-", "")),
        ticker,
        config.memoryCache().revalidate().toNanos());
  }
}
