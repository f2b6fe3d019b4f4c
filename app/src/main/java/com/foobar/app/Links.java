package com.foobar.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.foobar.app.spi.App;
import com.foobar.app.spi.AppConfigException;
import com.foobar.app.spi.AppContext;
import com.foobar.app.spi.HttpError;
import com.foobar.app.spi.Reply;
import com.foobar.app.spi.Request;
import com.foobar.core.ConfigLoader;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;

/**
 * The built-in sample application {@code links}, a URL shortener and the classic replica workload:
 * reads (redirects, stats) go to a replica, creations to the primary, and clicks are counted in
 * memory and added to the primary in batches.
 *
 * <ul>
 *   <li>{@code POST /api/links} {@code {"url": "https://…", "code": "optional"}} → 201 {@code
 *       {"code","url","short"}}; 400 for a URL that is not http/https or is longer than 2048
 *       characters, or a code outside {@code [A-Za-z0-9_-]{3,32}}; 409 when the code is taken
 *   <li>{@code GET /r/{code}} → 302 to the URL; 404 for an unknown code
 *   <li>{@code GET /api/links/{code}} → 200 {@code {"code","url","created","clicks"}}
 * </ul>
 *
 * <p>Settings ({@code backend.apps.links.config}): {@code cache-size} (codes kept in memory; 0
 * turns the cache off; default 100000), {@code flush-interval} (how often counted clicks are
 * written; default 1s), {@code code-length} (of generated codes, 5..32; default 7).
 */
public final class Links implements App {
  static final String NAME = "links";
  private static final int GENERATE_ATTEMPTS = 5;

  private final Random random = new SecureRandom();
  private LinkStore store;
  private ClickBuffer clicks;
  private Cache<String, String> cache;
  private int codeLength;
  private String prefix;
  private Counter redirects;
  private Counter cacheMisses;

  /** For {@link java.util.ServiceLoader}. */
  public Links() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Optional<String> migrations() {
    return Optional.of("classpath:db/links");
  }

  @Override
  public void start(AppContext context) {
    JsonNode config = context.config();
    int cacheSize = intSetting(config, "cache-size", 100_000, 0, Integer.MAX_VALUE);
    codeLength = intSetting(config, "code-length", 7, 5, 32);
    Duration flushInterval = durationSetting(config, "flush-interval", Duration.ofSeconds(1));
    prefix = context.prefix().endsWith("/") ? context.prefix() : context.prefix() + "/";
    store = new LinkStore(context.database(), context.clock());
    clicks = new ClickBuffer(store, flushInterval, context.logger(), context.registry());
    cache =
        Caffeine.newBuilder().maximumSize(cacheSize).recordStats().executor(Runnable::run).build();
    CaffeineCacheMetrics.monitor(context.registry(), cache, "links");
    redirects =
        Counter.builder("foobar.app.links.redirects")
            .description("redirects answered (302)")
            .register(context.registry());
    cacheMisses =
        Counter.builder("foobar.app.links.cache.misses")
            .description("redirects whose code was looked up in the database")
            .register(context.registry());
    context.route("POST", "/api/links", this::create);
    context.route("GET", "/api/links/{code}", this::stats);
    context.route("GET", "/r/{code}", this::redirect);
  }

  @Override
  public void stop() {
    if (clicks != null) {
      clicks.close();
    }
  }

  record CreateLink(String url, String code) {}

  record Created(
      String code,
      String url,
      @com.fasterxml.jackson.annotation.JsonProperty("short") String shortUrl) {}

  record Stats(String code, String url, String created, long clicks) {}

  private Reply create(Request request) {
    CreateLink body = request.body(CreateLink.class);
    String url = LinkRules.checkUrl(body.url());
    String code;
    if (body.code() != null) {
      code = LinkRules.checkCode(body.code());
      if (!store.insert(code, url)) {
        throw new HttpError(409, "code_taken", "the code '" + code + "' is already taken");
      }
    } else {
      code = generate(url);
    }
    cache.put(code, url);
    String shortUrl = request.origin() + prefix + "r/" + code;
    return Reply.json(201, new Created(code, url, shortUrl))
        .header("Location", prefix + "api/links/" + code);
  }

  private String generate(String url) {
    for (int i = 0; i < GENERATE_ATTEMPTS; i++) {
      String code = LinkRules.randomCode(random, codeLength);
      if (store.insert(code, url)) {
        return code;
      }
    }
    throw new HttpError(
        503, "codes_exhausted", GENERATE_ATTEMPTS + " generated codes in a row were taken");
  }

  private Reply redirect(Request request) {
    String code = request.param("code");
    String url = cache.getIfPresent(code);
    if (url == null) {
      cacheMisses.increment();
      url = store.url(code).orElseThrow(() -> notFound(code));
      cache.put(code, url);
    }
    clicks.count(code);
    redirects.increment();
    return Reply.redirect(302, url).header("Cache-Control", "private, max-age=0");
  }

  private Reply stats(Request request) {
    String code = request.param("code");
    LinkStore.Link link = store.find(code).orElseThrow(() -> notFound(code));
    return Reply.ok(
        new Stats(
            link.code(),
            link.url(),
            link.created().toString(),
            link.clicks() + clicks.pending(code)));
  }

  private static HttpError notFound(String code) {
    return new HttpError(404, "not_found", "no link with code '" + code + "'");
  }

  private static int intSetting(JsonNode config, String key, int fallback, int min, int max) {
    JsonNode node = config.path(key);
    if (node.isMissingNode()) {
      return fallback;
    }
    // YAML scalars arrive as text: "0" and 0 are the same setting
    String text = node.asText().trim();
    int value;
    try {
      value = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      value = min - 1;
    }
    if (value < min || value > max) {
      throw new AppConfigException(
          key, "expected an integer from " + min + " to " + max + ", got '" + text + "'");
    }
    return value;
  }

  private static Duration durationSetting(JsonNode config, String key, Duration fallback) {
    JsonNode node = config.path(key);
    if (node.isMissingNode()) {
      return fallback;
    }
    try {
      Duration d = ConfigLoader.duration(node.asText());
      if (d.isZero()) {
        throw new IllegalArgumentException(
            "must be greater than zero, got '" + node.asText() + "'");
      }
      return d;
    } catch (IllegalArgumentException e) {
      throw new AppConfigException(key, e.getMessage());
    }
  }
}
