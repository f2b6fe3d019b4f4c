package com.foobar.replication;

import com.foobar.core.DatabaseConfig;
import com.foobar.replication.ReplicaSelector.Server;
import com.mysql.cj.jdbc.exceptions.CommunicationsException;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import com.zaxxer.hikari.pool.HikariPool;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MySQL/MariaDB primary and its replicas, one HikariCP pool per server (named {@code primary},
 * {@code replica-1}, {@code replica-2}, ... in the {@code hikaricp_*} metrics), each of {@code
 * database.pool-size} connections as {@code database.user}.
 *
 * <p>Writes borrow from the primary within {@code database.connection-timeout}, else fail {@link
 * DatabaseException.Kind#UNAVAILABLE} with HikariCP's message (total/active/idle/waiting). Reads go
 * to a replica chosen by {@link ReplicaSelector}, borrowing within {@code database.replica-timeout}
 * (that pool's connection timeout); they run on the primary instead, counted in {@code
 * foobar.db.read.fallbacks{reason}} and logged as {@code db.read_fallback} (at most once per
 * replica per {@code database.replica-retry}), when no replica is usable ({@code no_replica}), the
 * replica's pool has no free connection in time while its connections work ({@code timeout}; the
 * replica stays up: it is busy, not broken), or its pool cannot open connections (unreachable,
 * refused login) or a connection breaks mid-transaction with SQLState class 08 ({@code failed}; the
 * replica is marked down for {@code replica-retry}). Any other error on a replica is the work's and
 * is thrown, not retried. {@code foobar.db.replica.up{server}} is 1 while a replica is up.
 *
 * <p>Start-up: the primary must answer within {@code connection-timeout}, else {@link #open} fails
 * {@code UNAVAILABLE} naming it; a backend that cannot write is better restarted by its supervisor
 * than serving errors. Replicas may be down at start: their pools connect in the background and
 * reads fall back until they answer.
 *
 * <p>Connector/J properties from {@link JdbcUrls#DEFAULTS} are added unless a URL sets them.
 */
final class ReplicatedDatabase implements Database {
  private static final Logger log = LoggerFactory.getLogger(ReplicatedDatabase.class);

  /** HikariCP's smallest connection timeout; it silently uses 30 s for anything below. */
  static final Duration MIN_TIMEOUT = Duration.ofMillis(250);

  /** Why a read ran on the primary: the {@code reason} tag of {@code foobar.db.read.fallbacks}. */
  enum Fallback {
    NO_REPLICA,
    TIMEOUT,
    FAILED;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final String primaryAddress;
  private final HikariDataSource primary;
  private final Map<Server, HikariDataSource> replicas;
  private final ReplicaSelector selector;
  private final MeterRegistry registry;
  private final Timer writes;
  private final Timer primaryReads;
  private final Map<Server, Timer> replicaReads = new LinkedHashMap<>();
  private final Map<Fallback, Counter> fallbacks = new EnumMap<>(Fallback.class);
  private final List<Meter> meters = new ArrayList<>();

  private ReplicatedDatabase(
      String primaryAddress,
      HikariDataSource primary,
      Map<Server, HikariDataSource> replicas,
      ReplicaSelector selector,
      MeterRegistry registry) {
    this.primaryAddress = primaryAddress;
    this.primary = primary;
    this.replicas = replicas;
    this.selector = selector;
    this.registry = registry;
    this.writes = TxMetrics.timer(registry, "write", Tx.Route.PRIMARY, "primary");
    this.primaryReads = TxMetrics.timer(registry, "read", Tx.Route.PRIMARY, "primary");
    for (Server server : replicas.keySet()) {
      replicaReads.put(server, TxMetrics.timer(registry, "read", Tx.Route.REPLICA, server.name()));
      meters.add(
          Gauge.builder("foobar.db.replica.up", selector, s -> s.up(server) ? 1 : 0)
              .description("1 while reads may use the replica, 0 while it is skipped as down")
              .tag("server", server.name())
              .register(registry));
    }
    for (Fallback reason : Fallback.values()) {
      Counter counter =
          Counter.builder("foobar.db.read.fallbacks")
              .description("reads run on the primary because no replica could take them")
              .tag("reason", reason.tag())
              .register(registry);
      fallbacks.put(reason, counter);
      meters.add(counter);
    }
  }

  /**
   * Opens the pools of {@code config}.
   *
   * @param ticker nanosecond time source for the replica retry window ({@code System::nanoTime})
   * @throws IllegalArgumentException when a URL is not {@code jdbc:mysql://}, a timeout is below
   *     HikariCP's 250 ms minimum or the pool size or retry is not positive
   * @throws DatabaseException UNAVAILABLE when the primary does not answer within {@code
   *     connection-timeout}
   */
  static ReplicatedDatabase open(
      DatabaseConfig config, MeterRegistry registry, LongSupplier ticker) {
    check(config);
    String primaryAddress = JdbcUrls.address(config.primary());
    HikariDataSource primary;
    try {
      primary =
          new HikariDataSource(
              pool(config, "primary", config.primary(), config.connectionTimeout(), registry));
    } catch (HikariPool.PoolInitializationException e) {
      throw new DatabaseException(
          DatabaseException.Kind.UNAVAILABLE,
          "primary "
              + JdbcUrls.redacted(config.primary())
              + " unreachable at start-up within "
              + config.connectionTimeout().toMillis()
              + "ms: "
              + Optional.ofNullable(e.getCause()).map(Throwable::getMessage).orElse(e.getMessage()),
          e);
    }
    Map<Server, HikariDataSource> replicas = new LinkedHashMap<>();
    List<Server> servers = new ArrayList<>();
    for (int i = 0; i < config.replicas().size(); i++) {
      String url = config.replicas().get(i);
      Server server = new Server("replica-" + (i + 1), JdbcUrls.address(url));
      HikariConfig pool = pool(config, server.name(), url, config.replicaTimeout(), registry);
      pool.setInitializationFailTimeout(-1);
      replicas.put(server, new HikariDataSource(pool));
      servers.add(server);
    }
    ReplicaSelector selector = new ReplicaSelector(servers, config.replicaRetry(), ticker);
    return new ReplicatedDatabase(primaryAddress, primary, replicas, selector, registry);
  }

  private static void check(DatabaseConfig config) {
    JdbcUrls.check("database.primary", config.primary());
    config.replicas().forEach(url -> JdbcUrls.check("database.replicas", url));
    if (config.poolSize() < 1) {
      throw new IllegalArgumentException(
          "database.pool-size must be at least 1, got " + config.poolSize());
    }
    atLeast("database.connection-timeout", config.connectionTimeout(), MIN_TIMEOUT);
    atLeast("database.replica-timeout", config.replicaTimeout(), MIN_TIMEOUT);
    atLeast("database.replica-retry", config.replicaRetry(), Duration.ofMillis(1));
  }

  private static void atLeast(String key, Duration value, Duration min) {
    if (value.compareTo(min) < 0) {
      throw new IllegalArgumentException(
          key + " must be at least " + min.toMillis() + "ms, got " + value.toMillis() + "ms");
    }
  }

  private static HikariConfig pool(
      DatabaseConfig config, String name, String url, Duration timeout, MeterRegistry registry) {
    HikariConfig pool = new HikariConfig();
    pool.setPoolName(name);
    pool.setJdbcUrl(url);
    pool.setUsername(config.user());
    pool.setPassword(config.password().value());
    pool.setMaximumPoolSize(config.poolSize());
    pool.setConnectionTimeout(timeout.toMillis());
    pool.setInitializationFailTimeout(timeout.toMillis());
    pool.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
    JdbcUrls.missingDefaults(url).forEach(pool::addDataSourceProperty);
    return pool;
  }

  @Override
  public <T> T read(Work<T> work) {
    return read(work, Transactions.Mode.READ);
  }

  @Override
  public <T> List<T> query(String sql, Tx.RowMapper<T> mapper, Object... args) {
    return read(tx -> tx.query(sql, mapper, args), Transactions.Mode.STATEMENT);
  }

  @Override
  public <T> Optional<T> queryOne(String sql, Tx.RowMapper<T> mapper, Object... args) {
    return read(tx -> tx.queryOne(sql, mapper, args), Transactions.Mode.STATEMENT);
  }

  private <T> T read(Work<T> work, Transactions.Mode mode) {
    Timer.Sample sample = Timer.start();
    Timer timer = primaryReads;
    try {
      Optional<Server> replica = selector.pick();
      if (replica.isEmpty()) {
        fallback(Fallback.NO_REPLICA, "none", selector.skipped());
        return onPrimary(work, mode, "read (no replica usable)");
      }
      Server server = replica.get();
      Connection connection;
      try {
        connection = replicas.get(server).getConnection();
      } catch (SQLException e) {
        if (Thread.currentThread().isInterrupted()) {
          throw new DatabaseException(
              DatabaseException.Kind.UNAVAILABLE, "interrupted waiting for " + server, e);
        }
        // HikariCP's timeout carries the pool's last failure to connect as its cause; none means
        // every connection was busy: the replica is fine, just saturated
        Optional<Throwable> connectFailure = Optional.ofNullable(e.getCause());
        Fallback reason = connectFailure.isPresent() ? Fallback.FAILED : Fallback.TIMEOUT;
        connectFailure.ifPresent(cause -> selector.failed(server, message(cause)));
        fallback(
            reason,
            server.name(),
            server
                + ": "
                + e.getMessage()
                + connectFailure
                    .map(cause -> " (last connect: " + message(cause) + ")")
                    .orElse(""));
        return onPrimary(work, mode, "read (" + server.name() + " " + reason.tag() + ")");
      }
      try {
        T result = Transactions.run(connection, Tx.Route.REPLICA, server.name(), mode, work);
        selector.succeeded(server);
        timer = replicaReads.get(server);
        return result;
      } catch (SQLException e) {
        if (!isConnectionError(e)) {
          // the replica answered (bad SQL, read_only refusing a write): it is up, the work failed
          selector.succeeded(server);
          timer = replicaReads.get(server);
          throw Transactions.failure("read on " + server, e);
        }
        selector.failed(server, message(e));
        fallback(Fallback.FAILED, server.name(), server + " failed mid-read: " + message(e));
        return onPrimary(work, mode, "read (" + server.name() + " failed)");
      }
    } finally {
      sample.stop(timer);
    }
  }

  @Override
  public <T> T write(Work<T> work) {
    Timer.Sample sample = Timer.start();
    try {
      return onPrimary(work, Transactions.Mode.WRITE, "write");
    } finally {
      sample.stop(writes);
    }
  }

  private <T> T onPrimary(Work<T> work, Transactions.Mode mode, String what) {
    try {
      return Transactions.run(primary.getConnection(), Tx.Route.PRIMARY, "primary", mode, work);
    } catch (SQLException e) {
      throw Transactions.failure(what + " on primary (" + primaryAddress + ")", e);
    }
  }

  private void fallback(Fallback reason, String replica, String detail) {
    fallbacks.get(reason).increment();
    if (selector.shouldLog(replica)) {
      log.atWarn()
          .addKeyValue("event", "db.read_fallback")
          .addKeyValue("replica", replica)
          .addKeyValue("reason", reason.tag())
          .log("read falls back to the primary ({}): {}", reason.tag(), detail);
    }
  }

  /**
   * Whether {@code e} (or a cause) says the connection itself failed: SQLState class 08, or
   * Connector/J's {@link CommunicationsException} (a timed-out or reset socket).
   */
  static boolean isConnectionError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CommunicationsException) {
        return true;
      }
      if (t instanceof SQLException s
          && s.getSQLState() != null
          && s.getSQLState().startsWith("08")) {
        return true;
      }
    }
    return false;
  }

  private static String message(Throwable e) {
    String text = String.valueOf(e.getMessage());
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }

  @Override
  public void migrate(String app, String location, ClassLoader loader) {
    Migrations.apply(primary, app, location, loader);
  }

  @Override
  public String describe() {
    return "primary "
        + primaryAddress
        + ", replicas "
        + (replicas.isEmpty()
            ? "none"
            : replicas.keySet().stream().map(Server::address).collect(Collectors.joining(", ")));
  }

  @Override
  public void close() {
    meters.forEach(registry::remove);
    replicas.values().forEach(HikariDataSource::close);
    primary.close();
  }
}
