package com.foobar.replication;

import java.sql.SQLException;

/**
 * The site's database as application code sees it: every use states its intent. {@link #write} runs
 * on the primary; {@link #read} runs in a read-only transaction on a usable replica and falls back
 * to the primary when none is (down, or its pool has no connection within {@code
 * database.replica-timeout}), with a {@code db.read_fallback} log event and a metric. Writes never
 * go to a replica. On the embedded database both run on the one H2 database.
 *
 * <p>Each call is one transaction: it commits when {@code work} returns and rolls back when it
 * throws. {@code work} may be run twice for a read (once on a replica that failed mid-way, once on
 * the primary), so it must not have effects outside the database.
 *
 * <p>Failures surface as {@link DatabaseException}; nothing here returns {@code null}.
 */
public interface Database extends AutoCloseable {

  /** Runs {@code work} in a read-only transaction on a replica (or the primary as a fallback). */
  <T> T read(Work<T> work);

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
