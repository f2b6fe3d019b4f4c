package com.foobar.app;

import com.foobar.core.AccessRule;
import com.foobar.core.AdminHandler;
import com.foobar.core.BackendConfig;
import com.foobar.core.ConfigException;
import com.foobar.core.HttpServer;
import com.foobar.core.HttpServerBuilder;
import com.foobar.core.Metrics;
import com.foobar.core.Readiness;
import com.foobar.core.RoleServer;
import com.foobar.core.ServerTls;
import com.foobar.core.TlsConfig;
import com.foobar.core.TlsMaterialException;
import com.foobar.replication.Database;
import com.github.benmanes.caffeine.cache.Ticker;
import io.undertow.server.HttpHandler;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Role {@code backend}: serves the site on {@code backend.listen} and the admin routes on {@code
 * backend.admin}. A request goes to the first that takes it of: the routes of the applications
 * {@code backend.apps} selects ({@link AppRouter}), the {@code backend.upstream} proxy ({@link
 * UpstreamProxy}), the static files.
 */
public final class Backend implements RoleServer {
  private static final Logger log = LoggerFactory.getLogger(Backend.class);
  static final String LISTENER = "backend";
  static final String ADMIN_LISTENER = "backend-admin";
  private static final Duration TLS_WATCH_INTERVAL = Duration.ofSeconds(2);

  private final HttpServer server;
  private final Optional<ServerTls> tls;
  private final Readiness readiness;
  private final Path staticRoot;
  private final AppRuntime apps;
  private final List<String> appNames;

  private Backend(
      HttpServer server,
      Optional<ServerTls> tls,
      Readiness readiness,
      Path staticRoot,
      AppRuntime apps,
      List<String> appNames) {
    this.server = server;
    this.tls = tls;
    this.readiness = readiness;
    this.staticRoot = staticRoot;
    this.apps = apps;
    this.appNames = appNames;
  }

  /**
   * Starts the applications (migrations, then {@code start}), binds the backend's listeners and
   * starts serving; ready when this returns. The applications stop in {@link #stop()}.
   *
   * @param config the {@code backend} section
   * @param database the site's database, handed to the applications (not closed here)
   * @param metrics the process's registry
   * @throws ConfigException when {@code backend.apps} names an application that does not exist, two
   *     plugins share a name, or an application refuses its settings; each problem reads {@code
   *     backend.apps.<name>: ...} (exit code 2)
   */
  public static Backend start(BackendConfig config, Database database, Metrics metrics) {
    Path root = config.staticFiles().root().orElseGet(BundledSite::extract);
    AppRuntime apps = AppRuntime.start(config, database, metrics.registry(), Clock.systemUTC());
    try {
      return listen(config, metrics, root, apps);
    } catch (RuntimeException e) {
      apps.stop();
      throw e;
    }
  }

  private static Backend listen(BackendConfig config, Metrics metrics, Path root, AppRuntime apps) {
    long maxBody = config.limits().maxBodySize().bytes();
    HttpHandler site =
        StaticFiles.handler(config.staticFiles(), root, Ticker.systemTicker(), metrics.registry());
    if (!config.upstream().routes().isEmpty()) {
      site = new UpstreamProxy(config.upstream(), maxBody, site);
    }
    if (!apps.routes().isEmpty()) {
      site = new AppRouter(apps.routes(), maxBody, site);
    }
    Readiness readiness = new Readiness();
    // the lb's health checks ask the site listener for /ready (lb.health.path)
    site = AdminHandler.readinessProbe(readiness, site);
    HttpServerBuilder listeners = HttpServer.builder(config.limits(), metrics.registry());
    Optional<ServerTls> tls = config.tls().map(Backend::serverTls);
    if (tls.isPresent()) {
      listeners.httpsListener(
          LISTENER,
          config.listen(),
          AccessRule.of(config.allow(), config.deny()),
          Optional.of(config.accessLog()),
          "static",
          site,
          tls.get(),
          config.tls().get().clientAuth() == BackendConfig.ClientAuth.REQUIRED,
          false);
    } else {
      listeners.listener(
          LISTENER,
          config.listen(),
          AccessRule.of(config.allow(), config.deny()),
          Optional.of(config.accessLog()),
          "static",
          site);
    }
    HttpServer server =
        listeners
            .listener(
                ADMIN_LISTENER,
                config.admin(),
                AccessRule.of(config.adminAccess()),
                Optional.empty(),
                "other",
                AdminHandler.create(readiness, metrics))
            .start();
    readiness.ready();
    List<String> appNames =
        config.apps().entrySet().stream()
            .map(e -> e.getKey() + " at " + e.getValue().prefix())
            .toList();
    tls.ifPresent(t -> t.watch(TLS_WATCH_INTERVAL));
    Backend backend = new Backend(server, tls, readiness, root, apps, appNames);
    log.atInfo()
        .addKeyValue("event", "backend.ready")
        .addKeyValue("role", "backend")
        .addKeyValue("listen", server.address(LISTENER).url(tls.isPresent() ? "https" : "http"))
        .addKeyValue("admin", server.address(ADMIN_LISTENER).url("http"))
        .addKeyValue("static_root", root.toString())
        .log("backend serving {}", root);
    return backend;
  }

  private static ServerTls serverTls(BackendConfig.BackendTlsConfig c) {
    try {
      ServerTls.Builder b =
          ServerTls.builder(LISTENER).certificate("backend.tls", new TlsConfig(c.cert(), c.key()));
      c.ca().ifPresent(ca -> b.clientCa("backend.tls.ca", ca));
      return b.build();
    } catch (TlsMaterialException e) {
      throw new ConfigException(List.of(e.getMessage()));
    }
  }

  /** The applications that run, in {@code backend.apps} order, as {@code name at prefix}. */
  public List<String> apps() {
    return appNames;
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

  /** Closes the listeners, then stops the applications (once, however often this is called). */
  @Override
  public void stop() throws InterruptedException {
    try {
      tls.ifPresent(ServerTls::close);
      server.stop();
    } finally {
      apps.stop();
    }
  }
}
