package com.foobar.replication;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.file.Path;
import java.sql.SQLException;

/**
 * The zero-setup database: an H2 file database in MySQL mode, one pool, reads and writes both on
 * it.
 */
final class EmbeddedDatabase implements Database {
  private static final String SERVER = "embedded";

  private final Path file;
  private final HikariDataSource pool;
  private final Timer reads;
  private final Timer writes;

  private EmbeddedDatabase(Path file, HikariDataSource pool, MeterRegistry registry) {
    this.file = file;
    this.pool = pool;
    this.reads = TxMetrics.timer(registry, "read", Tx.Route.EMBEDDED, SERVER);
    this.writes = TxMetrics.timer(registry, "write", Tx.Route.EMBEDDED, SERVER);
  }

  static EmbeddedDatabase open(Path dir, MeterRegistry registry) {
    Path file = dir.toAbsolutePath().normalize().resolve("foobar");
    HikariConfig config = new HikariConfig();
    config.setPoolName(SERVER);
    // DB_CLOSE_ON_EXIT=FALSE: H2's own shutdown hook would close the database before the apps
    // flushed on SIGTERM; the pool closes it instead
    config.setJdbcUrl(
        "jdbc:h2:file:"
            + file
            + ";MODE=MySQL;DATABASE_TO_LOWER=TRUE;CASE_INSENSITIVE_IDENTIFIERS=TRUE"
            + ";DB_CLOSE_ON_EXIT=FALSE");
    config.setUsername("sa");
    config.setPassword("");
    config.setMaximumPoolSize(10);
    config.setMinimumIdle(1);
    config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
    return new EmbeddedDatabase(file, new HikariDataSource(config), registry);
  }

  @Override
  public <T> T read(Work<T> work) {
    return run(work, Transactions.Mode.JDBC_READ, reads);
  }

  @Override
  public <T> T write(Work<T> work) {
    return run(work, Transactions.Mode.JDBC_WRITE, writes);
  }

  private <T> T run(Work<T> work, Transactions.Mode mode, Timer timer) {
    Timer.Sample sample = Timer.start();
    try {
      return Transactions.run(pool.getConnection(), Tx.Route.EMBEDDED, SERVER, mode, work);
    } catch (SQLException e) {
      throw Transactions.failure(
          (mode == Transactions.Mode.JDBC_READ ? "read" : "write") + " on " + SERVER, e);
    } finally {
      sample.stop(timer);
    }
  }

  @Override
  public void migrate(String app, String location, ClassLoader loader) {
    Migrations.apply(pool, app, location, loader);
  }

  @Override
  public String describe() {
    return "embedded H2 (MySQL mode) at " + file;
  }

  @Override
  public void close() {
    pool.close();
  }
}
