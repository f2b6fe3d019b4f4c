package com.foobar.app;

import com.foobar.replication.Database;
import com.foobar.replication.DatabaseException;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;

/** The {@code links} table: creations on the primary, lookups on a replica. */
final class LinkStore {
  record Link(String code, String url, Instant created, long clicks) {}

  private final Database db;
  private final Clock clock;

  LinkStore(Database db, Clock clock) {
    this.db = db;
    this.clock = clock;
  }

  /**
   * Inserts a link on the primary.
   *
   * @return false when the code is taken (nothing written)
   */
  boolean insert(String code, String url) {
    Timestamp now = Timestamp.from(clock.instant().truncatedTo(ChronoUnit.MILLIS));
    try {
      db.write(
          tx ->
              tx.update(
                  "INSERT INTO links (code, url, created_at, clicks) VALUES (?, ?, ?, 0)",
                  code,
                  url,
                  now));
      return true;
    } catch (DatabaseException e) {
      if (e.kind() == DatabaseException.Kind.CONSTRAINT) {
        return false;
      }
      throw e;
    }
  }

  /**
   * The URL of {@code code}. A code the replica does not know is looked up on the primary before it
   * is called unknown, so a link is found the moment its creation returned, even while the replica
   * lags.
   */
  Optional<String> url(String code) {
    String sql = "SELECT url FROM links WHERE code = ?";
    Optional<String> url = db.queryOne(sql, r -> r.getString(1), code);
    if (url.isPresent()) {
      return url;
    }
    return db.write(tx -> tx.queryOne(sql, r -> r.getString(1), code));
  }

  /** The whole link, with the clicks written so far; looked up like {@link #url}. */
  Optional<Link> find(String code) {
    String sql = "SELECT code, url, created_at, clicks FROM links WHERE code = ?";
    Database.Work<Optional<Link>> work =
        tx ->
            tx.queryOne(
                sql,
                r ->
                    new Link(
                        r.getString(1),
                        r.getString(2),
                        r.getTimestamp(3).toInstant(),
                        r.getLong(4)),
                code);
    Optional<Link> link = db.read(work);
    return link.isPresent() ? link : db.write(work);
  }

  /** Adds counted clicks on the primary, all in one transaction (one JDBC batch). */
  void addClicks(Map<String, Long> counts) {
    db.write(
        tx -> {
          try (PreparedStatement update =
              tx.connection()
                  .prepareStatement("UPDATE links SET clicks = clicks + ? WHERE code = ?")) {
            for (Map.Entry<String, Long> e : counts.entrySet()) {
              update.setLong(1, e.getValue());
              update.setString(2, e.getKey());
              update.addBatch();
            }
            update.executeBatch();
          }
          return counts.size();
        });
  }
}
