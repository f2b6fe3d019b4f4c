package com.foobar.replication;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * One transaction on one server, handed to {@link Database.Work}. The helpers bind {@code args} to
 * the {@code ?} placeholders in order; {@link #connection()} is there for anything else. Do not
 * commit, roll back or close the connection: the {@link Database} does.
 */
public interface Tx {

  /** Which kind of server runs this transaction. */
  Route route();

  /** The pool's name: {@code primary}, {@code replica-1}, ... or {@code embedded}. */
  String server();

  /** The JDBC connection, in a transaction (auto-commit off). */
  Connection connection();

  /** Runs an INSERT, UPDATE or DELETE; returns the number of rows changed. */
  int update(String sql, Object... args) throws SQLException;

  /** Runs a query and maps every row. */
  <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) throws SQLException;

  /** Runs a query expected to return at most one row. */
  <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... args) throws SQLException;

  /** Maps the current row of a result set. */
  @FunctionalInterface
  interface RowMapper<T> {
    T map(ResultSet row) throws SQLException;
  }

  /** The kind of server a transaction runs on. */
  enum Route {
    PRIMARY,
    REPLICA,
    /** The embedded database: reads and writes both. */
    EMBEDDED
  }
}
