package com.foobar.app;

import com.foobar.core.DataSize;
import com.foobar.core.StaticConfig;
import com.foobar.core.StaticConfig.CacheControlRule;
import com.foobar.core.StaticConfig.GzipConfig;
import com.foobar.core.StaticConfig.MemoryCacheConfig;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** {@link StaticConfig}s for tests, starting from the values in foobar-defaults.yml. */
final class TestConfigs {

  private TestConfigs() {}

  static final List<CacheControlRule> DEFAULT_RULES =
      List.of(
          new CacheControlRule("/assets/**", "public, max-age=31536000, immutable"),
          new CacheControlRule("**.html", "no-cache"),
          new CacheControlRule("**", "public, max-age=3600"));

  static final GzipConfig DEFAULT_GZIP =
      new GzipConfig(
          true,
          DataSize.parse("1KiB"),
          List.of(
              "text/*",
              "application/javascript",
              "application/json",
              "application/xml",
              "image/svg+xml"));

  static StaticConfig defaults() {
    return memoryCache(DataSize.parse("64MiB"), DataSize.parse("1MiB"), Duration.ofSeconds(1));
  }

  static StaticConfig memoryCache(DataSize maxBytes, DataSize maxFileSize, Duration revalidate) {
    return new StaticConfig(
        Optional.empty(),
        List.of("index.html"),
        false,
        DEFAULT_RULES,
        new MemoryCacheConfig(maxBytes, maxFileSize, revalidate),
        true,
        DEFAULT_GZIP);
  }

  static StaticConfig withDirectoryListing() {
    StaticConfig d = defaults();
    return new StaticConfig(
        d.root(),
        d.indexFiles(),
        true,
        d.cacheControl(),
        d.memoryCache(),
        d.precompressed(),
        d.gzip());
  }

  static StaticConfig withoutPrecompressed() {
    StaticConfig d = defaults();
    return new StaticConfig(
        d.root(),
        d.indexFiles(),
        d.directoryListing(),
        d.cacheControl(),
        d.memoryCache(),
        false,
        d.gzip());
  }
}
