package com.foobar.app.spi;

import java.util.Optional;

/**
 * An application run by the backend role. Built-in applications and those in jars under {@code
 * backend.plugins} are found with {@link java.util.ServiceLoader} (list the class in {@code
 * META-INF/services/com.foobar.app.spi.App}); {@code backend.apps} selects which run, by {@link
 * #name()}, and under which path prefix.
 *
 * <p>Life cycle: {@link #migrations()} are applied, then {@link #start} registers the routes; after
 * the listener drained on shutdown, {@link #stop} runs once.
 */
public interface App {

  /** The key under {@code backend.apps}, e.g. {@code links}. */
  String name();

  /**
   * Flyway location of the application's schema migrations (e.g. {@code classpath:db/links}),
   * resolved with the application's class loader; empty when it keeps no tables.
   */
  default Optional<String> migrations() {
    return Optional.empty();
  }

  /**
   * Reads the application's settings and registers its routes.
   *
   * @throws AppConfigException when {@link AppContext#config()} is invalid (start-up fails with
   *     exit code 2 and the message)
   */
  void start(AppContext context);

  /** Flushes what the application buffered; called once, on graceful shutdown. */
  default void stop() {}
}
