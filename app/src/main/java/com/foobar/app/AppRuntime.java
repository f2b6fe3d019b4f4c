package com.foobar.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.foobar.app.spi.App;
import com.foobar.app.spi.AppConfigException;
import com.foobar.app.spi.AppContext;
import com.foobar.core.BackendConfig;
import com.foobar.core.ConfigException;
import com.foobar.replication.Database;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The applications of one backend, started in {@code backend.apps} order: for each, its migrations
 * are applied ({@link Database#migrate} with the application's class loader), then {@link
 * App#start} registers its routes. {@link #stop} stops them once, in reverse order.
 *
 * <p>Configuration problems stop start-up with a {@link ConfigException} whose problems read {@code
 * backend.apps.<name>: ...}: a name no application has (the message lists those available), or an
 * {@link AppConfigException} from {@code start}. Applications started before a failure are stopped
 * again.
 */
final class AppRuntime {
  private static final Logger log = LoggerFactory.getLogger(AppRuntime.class);
  private static final Pattern METHOD = Pattern.compile("[A-Z]+");

  private final AppCatalog catalog;
  private final List<App> started;
  private final List<AppRoute> routes;
  private final AtomicBoolean stopped = new AtomicBoolean();

  private AppRuntime(AppCatalog catalog, List<App> started, List<AppRoute> routes) {
    this.catalog = catalog;
    this.started = started;
    this.routes = routes;
  }

  /**
   * Finds, migrates and starts the applications {@code config.apps()} selects.
   *
   * @throws ConfigException for an unknown name, a duplicate name, or an invalid app config
   * @throws com.foobar.replication.DatabaseException when a migration fails
   */
  static AppRuntime start(
      BackendConfig config, Database database, MeterRegistry registry, Clock clock) {
    AppCatalog catalog = AppCatalog.load(config.plugins(), AppRuntime.class.getClassLoader());
    List<String> problems = new ArrayList<>();
    for (String name : config.apps().keySet()) {
      if (catalog.find(name).isEmpty()) {
        problems.add(
            "backend.apps."
                + name
                + ": no application has this name; available: "
                + (catalog.names().isEmpty() ? "none" : String.join(", ", catalog.names()))
                + " (built-in, and jars in backend.plugins "
                + config.plugins()
                + ")");
      }
    }
    if (!problems.isEmpty()) {
      catalog.close();
      throw new ConfigException(problems);
    }
    List<App> started = new ArrayList<>();
    List<AppRoute> routes = new ArrayList<>();
    try {
      for (Map.Entry<String, BackendConfig.AppConfig> e : config.apps().entrySet()) {
        App app = catalog.find(e.getKey()).orElseThrow();
        app.migrations()
            .ifPresent(
                location ->
                    database.migrate(app.name(), location, app.getClass().getClassLoader()));
        Context context = new Context(app.name(), e.getValue(), database, registry, clock, routes);
        try {
          app.start(context);
        } catch (AppConfigException ace) {
          throw new ConfigException(
              List.of("backend.apps." + app.name() + ".config." + ace.getMessage()));
        } finally {
          context.open = false;
        }
        started.add(app);
        log.atInfo()
            .addKeyValue("event", "app.started")
            .addKeyValue("app", app.name())
            .addKeyValue("prefix", e.getValue().prefix())
            .addKeyValue("routes", context.count)
            .log(
                "app {} serving {} routes under {}",
                app.name(),
                context.count,
                e.getValue().prefix());
      }
    } catch (RuntimeException e) {
      new AppRuntime(catalog, started, routes).stop();
      throw e;
    }
    return new AppRuntime(catalog, List.copyOf(started), List.copyOf(routes));
  }

  /** Every route of every started application, in registration order. */
  List<AppRoute> routes() {
    return routes;
  }

  /**
   * Stops the applications, last started first, then closes the plugin class loader; only the first
   * call does anything. An application whose {@code stop} throws is logged ({@code
   * app.stop_failed}) and the others still stop.
   */
  void stop() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    for (int i = started.size() - 1; i >= 0; i--) {
      App app = started.get(i);
      try {
        app.stop();
      } catch (RuntimeException e) {
        log.atError()
            .addKeyValue("event", "app.stop_failed")
            .addKeyValue("app", app.name())
            .setCause(e)
            .log("app {} failed to stop", app.name());
      }
    }
    catalog.close();
  }

  /** The {@link AppContext} of one starting application; routes are accepted while it starts. */
  private static final class Context implements AppContext {
    private final String name;
    private final BackendConfig.AppConfig config;
    private final Database database;
    private final MeterRegistry registry;
    private final Clock clock;
    private final List<AppRoute> routes;
    private final Logger logger;
    private boolean open = true;
    private int count;

    Context(
        String name,
        BackendConfig.AppConfig config,
        Database database,
        MeterRegistry registry,
        Clock clock,
        List<AppRoute> routes) {
      this.name = name;
      this.config = config;
      this.database = database;
      this.registry = registry;
      this.clock = clock;
      this.routes = routes;
      this.logger = LoggerFactory.getLogger("app." + name);
    }

    @Override
    public Database database() {
      return database;
    }

    @Override
    public JsonNode config() {
      return config.config();
    }

    @Override
    public MeterRegistry registry() {
      return registry;
    }

    @Override
    public Logger logger() {
      return logger;
    }

    @Override
    public Clock clock() {
      return clock;
    }

    @Override
    public String prefix() {
      return config.prefix();
    }

    @Override
    public void route(String method, String template, Handler handler) {
      if (!open) {
        throw new IllegalStateException("app " + name + ": routes are registered in start()");
      }
      if (!METHOD.matcher(method).matches()) {
        throw new IllegalArgumentException(
            "app " + name + ": a method is an upper-case token like GET, got '" + method + "'");
      }
      RouteTemplate parsed = RouteTemplate.parse(config.prefix(), template);
      for (AppRoute r : routes) {
        if (r.method().equals(method) && r.template().sameShape(parsed)) {
          throw new IllegalArgumentException(
              "app "
                  + name
                  + ": route "
                  + method
                  + " "
                  + parsed.text()
                  + " clashes with app "
                  + r.app()
                  + "'s "
                  + method
                  + " "
                  + r.template().text());
        }
      }
      routes.add(new AppRoute(name, method, parsed, handler));
      count++;
    }
  }
}
