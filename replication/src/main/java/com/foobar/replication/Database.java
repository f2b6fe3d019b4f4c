package com.foobar.replication;

import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * The site's database as application code sees it: every use states its intent. {@link #write} runs
 * on the primary; {@link #read} runs in a read-only transaction on a usable replica and falls back
 * to the primary when none is (down, or its pool has no connection within {@code
 * database.replica-timeout}), with a {@code db.read_fallback} log event and a metric. Writes never
 * go to a replica. On the embedded database both run on the one H2 database.
 *
 * <p>Each call is one transaction: a write commits when {@code work} returns and rolls back when it
 * throws; a read is a read-only transaction ({@code START TRANSACTION READ ONLY} on MySQL/MariaDB,
 * so the server refuses writes even on the primary; on H2 it is always rolled back). {@code work}
 * may be run twice for a read (once on a replica that failed mid-way, once on the primary), so it
 * must not have effects outside the database.
 *
 * <p>Failures surface as {@link DatabaseException}; nothing here returns {@code null}.
 */
public interface Database extends AutoCloseable {

  /** Runs {@code work} in a read-only transaction on a replica (or the primary as a fallback). */
  <T> T read(Work<T> work);

  /**
   * Runs one query on a replica (or the primary as a fallback, as {@link #read}) without a
   * transaction around it: a single {@code SELECT} in auto-commit mode is its own consistent,
   * read-only read, and costs one round trip where a transaction costs three. Use {@link #read}
   * when several statements must see the same snapshot.
   */
  default <T> List<T> query(String sql, Tx.RowMapper<T> mapper, Object... args) {
    return read(tx -> tx.query(sql, mapper, args));
  }

  /** As {@link #query}, for a query expected to return at most one row. */
  default <T> Optional<T> queryOne(String sql, Tx.RowMapper<T> mapper, Object... args) {
    return read(tx -> tx.queryOne(sql, mapper, args));
  }

  /** Runs {@code work} in one transaction on the primary. */
  <T> T write(Work<T> work);

  /**
   * Applies the Flyway migrations at {@code location} (e.g. {@code classpath:db/links}) found
   * through {@code loader}, on the primary, recording them in the history table {@code
   * foobar_schema_<app>}. Safe when several backends start at once (Flyway takes a database lock);
   * replicas receive the changes through replication.
   *
   * @throws DatabaseException when a migration fails or the primary is unreachable
   */
  void migrate(String app, String location, ClassLoader loader);

  /**
   * One line for the start-up banner, e.g. {@code embedded H2 (MySQL mode) at /srv/data/foobar} or
   * {@code primary 10.0.0.21:3306, replicas 10.0.0.22:3306}.
   */
  String describe();

  /** Closes every pool. */
  @Override
  void close();

  /** Work done inside one transaction. */
  @FunctionalInterface
  interface Work<T> {
    T run(Tx tx) throws SQLException;
  }
}
