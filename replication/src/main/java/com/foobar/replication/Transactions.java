package com.foobar.replication;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLTransientConnectionException;

/** Runs {@link Database.Work} as one transaction on a borrowed connection. */
final class Transactions {
  private Transactions() {}

  /**
   * Runs {@code work} on {@code connection} with auto-commit off; commits when it returns, rolls
   * back when it throws, and always returns the connection to its pool. A read-only transaction is
   * always rolled back, so a read can never change the database (H2 takes {@code setReadOnly} as a
   * hint only; on a MariaDB replica {@code read_only} refuses the write before that).
   *
   * @throws SQLException as thrown by the work or by commit (after the rollback)
   */
  static <T> T run(
      Connection connection, Tx.Route route, String server, boolean readOnly, Database.Work<T> work)
      throws SQLException {
    try (Connection c = connection) {
      c.setAutoCommit(false);
      if (readOnly) {
        // on MariaDB (seen by Connector/J as 5.5.5) this does not make the session read-only; the
        // replica's read_only and the least-privilege user do. It still lets H2 refuse writes.
        c.setReadOnly(true);
      }
      try {
        T result = work.run(new JdbcTx(route, server, c));
        if (readOnly) {
          c.rollback();
        } else {
          c.commit();
        }
        return result;
      } catch (SQLException | RuntimeException | Error e) {
        rollback(c, e);
        throw e;
      } finally {
        if (readOnly) {
          c.setReadOnly(false);
        }
      }
    }
  }

  private static void rollback(Connection c, Throwable cause) {
    try {
      c.rollback();
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
