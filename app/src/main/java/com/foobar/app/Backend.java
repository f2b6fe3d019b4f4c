package com.foobar.app;

import com.foobar.core.AccessRule;
import com.foobar.core.AdminHandler;
import com.foobar.core.BackendConfig;
import com.foobar.core.HttpServer;
import com.foobar.core.Metrics;
import com.foobar.core.Readiness;
import com.foobar.core.RoleServer;
import com.github.benmanes.caffeine.cache.Ticker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Role {@code backend}: serves the site's static files on {@code backend.listen} and the admin
 * routes on {@code backend.admin}.
 */
public final class Backend implements RoleServer {
  private static final Logger log = LoggerFactory.getLogger(Backend.class);
  static final String LISTENER = "backend";
  static final String ADMIN_LISTENER = "backend-admin";

  private final HttpServer server;
  private final Readiness readiness;
  private final Path staticRoot;

  private Backend(HttpServer server, Readiness readiness, Path staticRoot) {
    this.server = server;
    this.readiness = readiness;
    this.staticRoot = staticRoot;
  }

  /**
   * Binds the backend's listeners and starts serving; ready when this returns.
   *
   * @param config the {@code backend} section
   * @param metrics the process's registry
   */
  public static Backend start(BackendConfig config, Metrics metrics) {
    Path root = config.staticFiles().root().orElseGet(BundledSite::extract);
    Readiness readiness = new Readiness();
    HttpServer server =
        HttpServer.builder(config.limits(), metrics.registry())
            .listener(
                LISTENER,
                config.listen(),
                AccessRule.of(config.allow(), config.deny()),
                Optional.of(config.accessLog()),
                "static",
                StaticFiles.handler(
                    config.staticFiles(), root, Ticker.systemTicker(), metrics.registry()))
            .listener(
                ADMIN_LISTENER,
                config.admin(),
                AccessRule.of(config.adminAccess()),
                Optional.empty(),
                "other",
                AdminHandler.create(readiness, metrics))
            .start();
    readiness.ready();
    Backend backend = new Backend(server, readiness, root);
    log.atInfo()
        .addKeyValue("event", "backend.ready")
        .addKeyValue("role", "backend")
        .addKeyValue("listen", server.address(LISTENER).url("http"))
        .addKeyValue("admin", server.address(ADMIN_LISTENER).url("http"))
        .addKeyValue("static_root", root.toString())
        .log("backend serving {}", root);
    return backend;
  }

  /** The directory whose files the backend serves (the extracted bundled site by default). */
  public Path staticRoot() {
    return staticRoot;
  }

  @Override
  public String role() {
    return "backend";
  }

  @Override
  public List<HttpServer.Bound> listeners() {
    return server.listeners();
  }

  @Override
  public Readiness readiness() {
    return readiness;
  }

  @Override
  public boolean drain(Duration timeout) throws InterruptedException {
    readiness.draining();
    return server.drain(List.of(LISTENER), timeout);
  }

  @Override
  public void stop() throws InterruptedException {
    server.stop();
  }
}
