package com.foobar.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Static file serving of the backend.
 *
 * @param root directory served; empty means the site bundled in the jar. Must be a readable
 *     directory; a relative path resolves against the config file's directory
 * @param indexFiles file names tried, in order, for a directory request
 * @param directoryListing whether a directory without an index file gets an HTML listing (else 404)
 * @param cacheControl {@code Cache-Control} values by path glob; the first matching rule wins
 * @param memoryCache the in-memory cache of hot small files
 * @param precompressed serve {@code .br}/{@code .gz} siblings to clients that accept them
 * @param gzip on-the-fly compression of text types
 */
public record StaticConfig(
    @Bind.Check(Bind.PathCheck.READABLE_DIRECTORY) Optional<Path> root,
    List<String> indexFiles,
    boolean directoryListing,
    List<CacheControlRule> cacheControl,
    MemoryCacheConfig memoryCache,
    boolean precompressed,
    GzipConfig gzip) {

  /**
   * One {@code Cache-Control} rule.
   *
   * @param path a glob on the request path: {@code *} within a segment, {@code **} across segments
   * @param value the header value, e.g. {@code public, max-age=31536000, immutable}
   */
  public record CacheControlRule(String path, String value) {}

  /**
   * The in-memory file cache.
   *
   * @param maxBytes total bytes held, all entries together; greater than zero
   * @param maxFileSize larger files are never cached; they go out zero-copy. Greater than zero and
   *     at most {@code maxBytes}
   * @param revalidate how long a cached entry is served before the file's size and mtime are
   *     checked again ({@code 0s}: on every request); zero allowed, never negative
   */
  public record MemoryCacheConfig(
      DataSize maxBytes, DataSize maxFileSize, @Bind.ZeroAllowed java.time.Duration revalidate) {}

  /**
   * On-the-fly gzip.
   *
   * @param enabled whether to compress at all
   * @param minSize smaller bodies go out as they are; {@code 0} compresses every body
   * @param types media types compressed ({@code text/*} style wildcards allowed)
   */
  public record GzipConfig(
      boolean enabled, @Bind.ZeroAllowed DataSize minSize, List<String> types) {}
}
