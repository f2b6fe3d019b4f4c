package com.foobar.launcher;

import com.foobar.core.ConfigException;
import com.foobar.core.ConfigLoader;
import com.foobar.core.FoobarConfig;
import com.foobar.core.LbConfig;
import com.foobar.core.Role;
import com.foobar.core.ServerTls;
import com.foobar.lb.LoadBalancer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the configuration file of a running process, on SIGHUP ({@link #onSighup}) and when the
 * file changes ({@link #watch}). The file is read and validated exactly as at start ({@link
 * ConfigLoader}, listener conflicts included); a file with problems is refused as a whole, logged
 * as event {@code config.reload.rejected} with the same messages start-up prints, and the running
 * configuration stays. A good one is applied to the lb ({@link LoadBalancer#reconfigure}) and
 * logged as {@code config.reloaded} with the keys applied and those that need a restart (other
 * sections than {@code lb} are read at start only).
 *
 * <p>Role {@code all} reloads its lb; the local backends it started stay as they were, so a backend
 * added to {@code lb.backends} on this host only starts with a restart (the key is logged as
 * needing one).
 */
final class ConfigReload implements AutoCloseable {
  /** How often the file's modification time and size are looked at. */
  static final Duration WATCH_INTERVAL = Duration.ofSeconds(2);

  private static final Logger log = LoggerFactory.getLogger(ConfigReload.class);

  private final Optional<Path> file;
  private final Map<String, String> env;
  private final Set<Role> roles;
  private final Optional<Path> allModeData;
  private final Optional<LoadBalancer> lb;
  private final List<ServerTls> certificates;
  // guarded by this
  private FoobarConfig current;
  private String loadedHash;
  // only the watcher thread uses these
  private ScheduledExecutorService watcher;
  private Optional<Stat> seen;
  private Optional<Stat> pending = Optional.empty();

  /** What the watcher compares between polls; an editor that replaces the file changes both. */
  private record Stat(FileTime modified, long size) {}

  /**
   * @param allModeData the data directory of role {@code all} (its internal CA); empty for single
   *     roles
   * @param current the configuration the roles started with
   */
  ConfigReload(
      Optional<Path> file,
      Map<String, String> env,
      Set<Role> roles,
      Optional<Path> allModeData,
      FoobarConfig current,
      Optional<LoadBalancer> lb,
      List<ServerTls> certificates) {
    this.file = file;
    this.env = env;
    this.roles = roles;
    this.allModeData = allModeData;
    this.current = current;
    this.lb = lb;
    this.certificates = certificates;
    this.loadedHash = hash();
    this.seen = stat();
  }

  /**
   * SIGHUP: validates the file again, reloads the lb's certificate files ({@link ServerTls#reload},
   * logging {@code tls.reloaded} or {@code tls.reload_failed}) whether or not the file is good,
   * then applies the file if it is.
   */
  void onSighup() {
    log.atInfo()
        .addKeyValue("event", "foobar.sighup")
        .addKeyValue("certificates", certificates.size())
        .log("SIGHUP: reloading the configuration and {} certificate set(s)", certificates.size());
    reload("sighup", true);
  }

  /**
   * Polls the file every {@code interval}; a change (modification time or size) that holds still
   * for one more poll, and whose content differs from the last one read, is reloaded. Nothing is
   * watched without a file.
   */
  synchronized void watch(Duration interval) {
    if (file.isEmpty() || watcher != null) {
      return;
    }
    watcher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "config-watch");
              t.setDaemon(true);
              return t;
            });
    long ms = interval.toMillis();
    watcher.scheduleWithFixedDelay(this::poll, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void poll() {
    try {
      Optional<Stat> now = stat();
      if (now.isEmpty() || now.equals(seen)) {
        // missing (an editor between delete and write) or unchanged
        pending = Optional.empty();
        return;
      }
      if (!now.equals(pending)) {
        // changed since the last poll: wait until the writer is done
        pending = now;
        return;
      }
      seen = now;
      pending = Optional.empty();
      reload("file-watch", false);
    } catch (RuntimeException e) {
      log.atError()
          .addKeyValue("event", "config.watch_failed")
          .setCause(e)
          .log("config file watch failed");
    }
  }

  private synchronized void reload(String trigger, boolean sighup) {
    String hash = hash();
    if (!sighup && hash.equals(loadedHash)) {
      return;
    }
    loadedHash = hash;
    List<String> problems;
    FoobarConfig next = null;
    try {
      next = ConfigLoader.load(file, env);
      problems = ConfigLoader.listenerConflicts(next, roles);
    } catch (ConfigException e) {
      problems = e.problems();
    }
    if (sighup) {
      reloadCertificates();
    }
    if (!problems.isEmpty()) {
      log.atWarn()
          .addKeyValue("event", "config.reload.rejected")
          .addKeyValue("trigger", trigger)
          .addKeyValue("problems", String.join("; ", problems))
          .log(
              "config reload rejected, the running configuration stays: config error: {}",
              String.join("; config error: ", problems));
      return;
    }
    apply(next, trigger);
  }

  private void reloadCertificates() {
    for (ServerTls tls : certificates) {
      try {
        tls.reload();
      } catch (RuntimeException e) {
        log.atError()
            .addKeyValue("event", "foobar.sighup_failed")
            .setCause(e)
            .log("SIGHUP certificate reload failed");
      }
    }
  }

  private void apply(FoobarConfig next, String trigger) {
    List<String> applied = new ArrayList<>();
    List<String> restart = new ArrayList<>();
    section("site", current.site(), next.site(), restart);
    section("node", current.node(), next.node(), restart);
    section("logging", current.logging(), next.logging(), restart);
    if (roles.contains(Role.BACKEND)) {
      section("backend", current.backend(), next.backend(), restart);
      section("database", current.database(), next.database(), restart);
    }
    if (lb.isPresent()) {
      LbConfig nextLb = next.lb();
      if (allModeData.isPresent()) {
        AllMode.Site was = AllMode.wire(current, allModeData.get(), Clock.systemUTC());
        AllMode.Site now = AllMode.wire(next, allModeData.get(), Clock.systemUTC());
        nextLb = now.lb();
        if (!was.backends().equals(now.backends())) {
          log.atWarn()
              .addKeyValue("event", "config.restart_needed")
              .addKeyValue("keys", "lb.backends")
              .log(
                  "role all: the lb now balances over the new lb.backends, but the local backends"
                      + " it started stay as they were; a new local backend starts with a restart");
          restart.add("lb.backends (local backends of role all)");
        }
      }
      LoadBalancer.Reload r = lb.get().reconfigure(nextLb);
      applied.addAll(r.applied());
      restart.addAll(r.restartNeeded());
    }
    current = next;
    log.atInfo()
        .addKeyValue("event", "config.reloaded")
        .addKeyValue("trigger", trigger)
        .addKeyValue("applied", String.join(",", applied))
        .addKeyValue("restart_needed", String.join(",", restart))
        .log(
            "configuration reloaded ({}): applied {}, needing a restart {}",
            trigger,
            applied.isEmpty() ? "nothing" : applied,
            restart.isEmpty() ? "nothing" : restart);
  }

  private static void section(String key, Object was, Object now, List<String> restart) {
    if (!was.equals(now)) {
      restart.add(key);
    }
  }

  private Optional<Stat> stat() {
    if (file.isEmpty()) {
      return Optional.empty();
    }
    try {
      BasicFileAttributes a = Files.readAttributes(file.get(), BasicFileAttributes.class);
      return Optional.of(new Stat(a.lastModifiedTime(), a.size()));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** SHA-256 of the file's content; empty text without a file or when it cannot be read. */
  private String hash() {
    if (file.isEmpty()) {
      return "";
    }
    try {
      byte[] content = Files.readAllBytes(file.get());
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (IOException e) {
      return "";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  @Override
  public synchronized void close() {
    if (watcher != null) {
      watcher.shutdownNow();
    }
  }
}
