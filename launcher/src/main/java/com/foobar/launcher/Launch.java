package com.foobar.launcher;

import com.foobar.app.Backend;
import com.foobar.core.BackendConfig;
import com.foobar.core.ConfigException;
import com.foobar.core.ConfigLoader;
import com.foobar.core.FoobarConfig;
import com.foobar.core.HttpServer;
import com.foobar.core.LbConfig;
import com.foobar.core.ListenException;
import com.foobar.core.Logging;
import com.foobar.core.Metrics;
import com.foobar.core.PeerTls;
import com.foobar.core.Role;
import com.foobar.core.RoleServer;
import com.foobar.core.ServerTls;
import com.foobar.core.TlsMaterialException;
import com.foobar.lb.LoadBalancer;
import com.foobar.replication.Database;
import com.foobar.replication.Databases;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of the server: loads the configuration, starts the selected roles, prints the banner, and
 * on SIGTERM/SIGINT drains and stops them, then exits 0. SIGHUP, and a change of the config file,
 * reload the configuration ({@link ConfigReload}); SIGHUP also reloads the lb's certificates.
 */
final class Launch {
  /** Returned by {@link #run()} when roles are serving; {@code main} must not exit then. */
  static final int RUNNING = -1;

  private final String roleText;
  private final Optional<Path> configFile;
  private final Map<String, String> env;
  private final PrintStream err;

  Launch(String roleText, Optional<Path> configFile, Map<String, String> env, PrintStream err) {
    this.roleText = roleText;
    this.configFile = configFile;
    this.env = env;
    this.err = err;
  }

  int run() {
    Set<Role> selected;
    try {
      selected = Roles.parse(roleText);
    } catch (IllegalArgumentException e) {
      err.println("foobar: " + e.getMessage());
      return 2;
    }
    boolean all = selected.size() > 1;
    Set<Role> runnable = EnumSet.copyOf(selected);
    runnable.retainAll(Roles.BUILT);
    if (!all && runnable.isEmpty()) {
      Role r = selected.iterator().next();
      err.println(
          "foobar: role "
              + r.key()
              + " is not built yet; this build runs: "
              + keys(Roles.BUILT)
              + " (and all)");
      return 2;
    }
    Optional<FoobarConfig> loaded = loadConfig(configFile, env, runnable, err);
    if (loaded.isEmpty()) {
      return 2;
    }
    FoobarConfig config = loaded.get();
    String node = config.node().orElseGet(Launch::hostName);
    Logging.configure(all ? "all" : keys(runnable), node, config.logging().level());
    Logger log = LoggerFactory.getLogger(Launch.class);
    Metrics metrics = Metrics.create(node);
    List<RoleServer> started = new ArrayList<>();
    List<AutoCloseable> resources = new ArrayList<>();
    try {
      if (all) {
        AllMode.Site site = AllMode.wire(config, Path.of("data"), Clock.systemUTC());
        if (!site.backends().isEmpty()) {
          Database database = openDatabase(config, metrics);
          resources.add(database);
          for (BackendConfig backend : site.backends()) {
            started.add(Backend.start(backend, database, metrics));
          }
        }
        // first in the list: on SIGTERM the lb drains before the backends behind it
        started.add(0, startLb(site.lb(), config.site(), metrics, resources));
      } else {
        if (runnable.contains(Role.BACKEND)) {
          Database database = openDatabase(config, metrics);
          resources.add(database);
          started.add(Backend.start(config.backend(), database, metrics));
        }
        if (runnable.contains(Role.LB)) {
          started.add(startLb(config.lb(), config.site(), metrics, resources));
        }
      }
    } catch (TlsMaterialException e) {
      err.println("config error: " + e.getMessage());
      stopAll(started);
      closeAll(resources, log);
      return 2;
    } catch (ConfigException e) {
      for (String p : e.problems()) {
        err.println("config error: " + p);
      }
      stopAll(started);
      closeAll(resources, log);
      return 2;
    } catch (RuntimeException e) {
      Optional<ListenException> listen = cause(e, ListenException.class);
      Optional<BindException> bind = cause(e, BindException.class);
      err.println(
          "foobar: cannot start: "
              + listen
                  .map(ListenException::getMessage)
                  .or(() -> bind.map(b -> "cannot listen: " + b.getMessage()))
                  .orElse(String.valueOf(e)));
      log.atError().addKeyValue("event", "foobar.start_failed").setCause(e).log("start failed");
      stopAll(started);
      closeAll(resources, log);
      return 1;
    }
    Duration drainTimeout =
        runnable.contains(Role.LB)
                && config.lb().drainTimeout().compareTo(config.backend().drainTimeout()) > 0
            ? config.lb().drainTimeout()
            : config.backend().drainTimeout();
    List<ServerTls> certificates =
        resources.stream().filter(ServerTls.class::isInstance).map(ServerTls.class::cast).toList();
    ConfigReload reload =
        new ConfigReload(
            configFile,
            env,
            runnable,
            all ? Optional.of(Path.of("data")) : Optional.empty(),
            config,
            started.stream()
                .filter(LoadBalancer.class::isInstance)
                .map(LoadBalancer.class::cast)
                .findFirst(),
            certificates);
    resources.add(reload);
    if (!Sighup.install(reload::onSighup)) {
      log.atWarn()
          .addKeyValue("event", "foobar.sighup_unavailable")
          .log(
              "this JVM cannot handle SIGHUP; certificates and the configuration reload only when"
                  + " their files change");
    }
    reload.watch(ConfigReload.WATCH_INTERVAL);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> shutdown(started, resources, drainTimeout, metrics, log), "drain"));
    // the JVM's own start time has millisecond resolution; the process's (from /proc) has seconds
    Duration toReady =
        Duration.ofMillis(
            System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime());
    banner(selected, runnable, started, resources, toReady);
    log.atInfo()
        .addKeyValue("event", "foobar.ready")
        .addKeyValue("roles", keys(runnable))
        .addKeyValue(
            "listeners",
            started.stream()
                .flatMap(r -> r.listeners().stream())
                .map(l -> l.name() + "=" + l.url())
                .collect(Collectors.joining(" ")))
        .addKeyValue("config", configFile.map(Path::toString).orElse("embedded defaults"))
        .addKeyValue("ready_ms", toReady.toMillis())
        .log("foobar ready in {} ms", toReady.toMillis());
    return RUNNING;
  }

  private void banner(
      Set<Role> selected,
      Set<Role> runnable,
      List<RoleServer> started,
      List<AutoCloseable> resources,
      Duration toReady) {
    StringBuilder b = new StringBuilder();
    b.append("foobar ").append(new Main.Version().getVersion()[0].substring(7));
    b.append(" — role ").append(selected.size() > 1 ? "all: " : "").append(keys(runnable));
    Set<Role> missing = EnumSet.copyOf(selected);
    missing.removeAll(runnable);
    if (!missing.isEmpty()) {
      b.append(" (not built yet: ").append(keys(missing)).append(')');
    }
    b.append('\n');
    for (AutoCloseable resource : resources) {
      if (resource instanceof Database database) {
        b.append(String.format("  %-14s %s%n", "database", database.describe()));
      }
    }
    for (RoleServer r : started) {
      for (HttpServer.Bound l : r.listeners()) {
        b.append(String.format("  %-14s %s%n", l.name(), l.url()));
      }
      if (r instanceof Backend backend) {
        b.append(String.format("  %-14s %s%n", "static root", backend.staticRoot()));
        b.append(
            String.format(
                "  %-14s %s%n",
                "apps", backend.apps().isEmpty() ? "(none)" : String.join(", ", backend.apps())));
      }
    }
    b.append(
        String.format(
            "  %-14s %s%n",
            "config",
            configFile.map(p -> p.toAbsolutePath().toString()).orElse("(embedded defaults)")));
    b.append(String.format("  %-14s %d ms%n", "ready in", toReady.toMillis()));
    err.print(b);
    err.flush();
  }

  /**
   * Starts role lb: its certificate from {@code lb.tls} (or self-signed for {@code site}) and
   * {@code lb.sni}, watched for changes, and TLS towards the backends from {@code lb.upstream-tls}.
   *
   * @throws TlsMaterialException when a certificate or key cannot be used (a config error)
   */
  private static LoadBalancer startLb(
      LbConfig lb, String site, Metrics metrics, List<AutoCloseable> resources) {
    ServerTls.Builder builder =
        ServerTls.builder("lb-https").engine("lb.tls-engine", lb.tlsEngine());
    if (lb.tls().isPresent()) {
      builder.certificate("lb.tls", lb.tls().get());
    } else {
      builder.selfSigned(site, Clock.systemUTC());
    }
    for (int i = 0; i < lb.sni().size(); i++) {
      builder.sni("lb.sni[" + i + "]", lb.sni().get(i));
    }
    ServerTls tls = builder.build();
    resources.add(tls);
    tls.watch(Duration.ofSeconds(2));
    Optional<SSLContext> upstream =
        lb.upstreamTls().map(t -> PeerTls.client("lb.upstream-tls", t.ca(), t.cert(), t.key()));
    return LoadBalancer.start(lb, metrics, tls, upstream);
  }

  /**
   * The site's database: the servers of the {@code database} section, or the embedded one in {@code
   * ./data} when there is none.
   */
  private static Database openDatabase(FoobarConfig config, Metrics metrics) {
    try {
      return Databases.open(config.database(), Path.of("data"), metrics.registry());
    } catch (IllegalArgumentException e) {
      // values the loader accepts but the pools cannot use, e.g. a timeout below HikariCP's 250ms;
      // the message names the key
      throw new ConfigException(List.of(e.getMessage()));
    }
  }

  private static void shutdown(
      List<RoleServer> started,
      List<AutoCloseable> resources,
      Duration drainTimeout,
      Metrics metrics,
      Logger log) {
    try {
      boolean clean = true;
      RuntimeException failed = null;
      try {
        for (RoleServer r : started) {
          clean &= r.drain(drainTimeout);
        }
      } catch (InterruptedException e) {
        clean = false;
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        // still stop: a drain that failed must not keep the process (or its log line) back
        clean = false;
        failed = e;
      }
      log.atInfo()
          .addKeyValue("event", "foobar.stopping")
          .addKeyValue("drained", clean)
          .setCause(failed)
          .log(clean ? "in-flight requests finished; stopping" : "drain incomplete; stopping");
      stopAll(started);
      closeAll(resources, log);
      metrics.close();
    } catch (RuntimeException e) {
      log.atError().addKeyValue("event", "foobar.stop_failed").setCause(e).log("stopping failed");
    } finally {
      System.out.flush();
      // a signal-initiated exit would report 128+signal; a drained stop is a clean exit
      Runtime.getRuntime().halt(0);
    }
  }

  private static void stopAll(List<RoleServer> started) {
    for (RoleServer r : started) {
      try {
        r.stop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Closes what the roles used (the database), after the roles stopped. */
  private static void closeAll(List<AutoCloseable> resources, Logger log) {
    for (AutoCloseable r : resources) {
      try {
        r.close();
      } catch (Exception e) {
        log.atError()
            .addKeyValue("event", "foobar.close_failed")
            .setCause(e)
            .log("cannot close {}", r);
      }
    }
  }

  /**
   * Loads and validates the configuration, including the listeners of {@code roles} not colliding;
   * on failure prints one {@code config error:} line per problem to {@code err} and returns empty.
   */
  static Optional<FoobarConfig> loadConfig(
      Optional<Path> file, Map<String, String> env, Set<Role> roles, PrintStream err) {
    List<String> problems;
    try {
      FoobarConfig config = ConfigLoader.load(file, env);
      problems = ConfigLoader.listenerConflicts(config, roles);
      if (problems.isEmpty()) {
        return Optional.of(config);
      }
    } catch (ConfigException e) {
      problems = e.problems();
    }
    for (String p : problems) {
      err.println("config error: " + p);
    }
    return Optional.empty();
  }

  private static String keys(Set<Role> roles) {
    return roles.stream().map(Role::key).collect(Collectors.joining(", "));
  }

  private static <T extends Throwable> Optional<T> cause(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return Optional.of(type.cast(t));
      }
    }
    return Optional.empty();
  }

  static String hostName() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
    } catch (IOException e) {
      return "localhost";
    }
  }
}
