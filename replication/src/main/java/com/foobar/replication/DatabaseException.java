package com.foobar.replication;

/**
 * A database call that failed. {@link #kind()} says how a caller should answer: {@link
 * Kind#UNAVAILABLE} with 503, {@link Kind#CONSTRAINT} (a unique or foreign key refused the change)
 * as a conflict of the caller's making, {@link Kind#FAILED} as a server error. The cause is the
 * {@link java.sql.SQLException} (or the application's exception) that ended the transaction.
 */
public final class DatabaseException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** How the call failed. */
  public enum Kind {
    /** No server could take the call: pool exhausted past its timeout, server down. */
    UNAVAILABLE,
    /** An integrity constraint refused the change (SQLState class 23). */
    CONSTRAINT,
    /** Anything else: bad SQL, a failed migration, an exception thrown by the work. */
    FAILED
  }

  private final Kind kind;

  public DatabaseException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** How the call failed. */
  public Kind kind() {
    return kind;
  }
}
