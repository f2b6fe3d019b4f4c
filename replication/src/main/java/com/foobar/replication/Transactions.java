package com.foobar.replication;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;

/** Runs {@link Database.Work} on a borrowed connection, as one transaction or one statement. */
final class Transactions {
  private Transactions() {}

  /** How the work's statements are grouped. */
  enum Mode {
    /**
     * A read-write transaction on MySQL/MariaDB: {@code START TRANSACTION}, then {@code COMMIT} (or
     * {@code ROLLBACK} when the work throws). Auto-commit stays on, so returning the connection
     * costs no {@code SET autocommit} round trip.
     */
    WRITE,
    /**
     * A read-only transaction on MySQL/MariaDB: {@code START TRANSACTION READ ONLY} (the server
     * refuses writes, whatever the user's privileges), then {@code COMMIT}.
     */
    READ,
    /**
     * One statement in auto-commit mode: no transaction statements at all. A single {@code SELECT}
     * is its own consistent read, so this costs one round trip, like plain JDBC.
     */
    STATEMENT,
    /** A read-write transaction through the JDBC API (auto-commit off; H2). */
    JDBC_WRITE,
    /**
     * A read through the JDBC API (H2, which has no read-only transactions): auto-commit off and
     * always rolled back, so a read can never change the database.
     */
    JDBC_READ
  }

  /**
   * Runs {@code work} on {@code connection} in {@code mode}; ends the transaction (commit when the
   * work returns, rollback when it throws; reads always end without changes) and always returns the
   * connection to its pool.
   *
   * @throws SQLException as thrown by the work or by ending the transaction (after the rollback)
   */
  static <T> T run(
      Connection connection, Tx.Route route, String server, Mode mode, Database.Work<T> work)
      throws SQLException {
    try (Connection c = connection) {
      switch (mode) {
        case WRITE -> execute(c, "START TRANSACTION");
        case READ -> execute(c, "START TRANSACTION READ ONLY");
        case JDBC_WRITE, JDBC_READ -> c.setAutoCommit(false);
        case STATEMENT -> {}
      }
      try {
        T result = work.run(new JdbcTx(route, server, c));
        switch (mode) {
          case WRITE, READ -> execute(c, "COMMIT");
          case JDBC_WRITE -> c.commit();
          case JDBC_READ -> c.rollback();
          case STATEMENT -> {}
        }
        return result;
      } catch (SQLException | RuntimeException | Error e) {
        rollback(c, mode, e);
        throw e;
      }
    }
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static void rollback(Connection c, Mode mode, Throwable cause) {
    try {
      switch (mode) {
        case WRITE, READ -> execute(c, "ROLLBACK");
        case JDBC_WRITE, JDBC_READ -> c.rollback();
        case STATEMENT -> {}
      }
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  /** {@code e} as the exception {@link Database} callers see. */
  static DatabaseException failure(String what, SQLException e) {
    return new DatabaseException(kind(e), what + ": " + e.getMessage(), e);
  }

  /** How {@code e} failed: connection problems are UNAVAILABLE, SQLState 23 is CONSTRAINT. */
  static DatabaseException.Kind kind(SQLException e) {
    String state = e.getSQLState();
    if (e instanceof SQLTransientConnectionException || (state != null && state.startsWith("08"))) {
      return DatabaseException.Kind.UNAVAILABLE;
    }
    if (e instanceof SQLIntegrityConstraintViolationException
        || (state != null && state.startsWith("23"))) {
      return DatabaseException.Kind.CONSTRAINT;
    }
    return DatabaseException.Kind.FAILED;
  }
}
