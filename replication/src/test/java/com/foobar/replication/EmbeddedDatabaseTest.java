package com.foobar.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedDatabaseTest {
  @TempDir Path dir;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private Database db;

  @BeforeEach
  void open() {
    db = Databases.embedded(dir, registry);
    db.migrate("test", "classpath:db/test", getClass().getClassLoader());
  }

  @AfterEach
  void close() {
    db.close();
  }

  private java.util.List<String> column(String sql) {
    return db.read(tx -> tx.query(sql, r -> r.getString(1)));
  }

  @Test
  void write_thenRead_seesTheRow_onTheEmbeddedServer() {
    db.write(tx -> tx.update("INSERT INTO notes (slug, body) VALUES (?, ?)", "a", "hello"));

    String body =
        db.read(
            tx -> {
              assertThat(tx.route()).isEqualTo(Tx.Route.EMBEDDED);
              return tx.queryOne("SELECT body FROM notes WHERE slug = ?", r -> r.getString(1), "a")
                  .orElseThrow();
            });

    assertThat(body).isEqualTo("hello");
    assertThat(Files.exists(dir.resolve("foobar.mv.db"))).isTrue();
    assertThat(registry.get("foobar.db.tx").tag("kind", "write").timer().count()).isEqualTo(1);
  }

  @Test
  void work_thatThrows_rollsBackEverything() {
    assertThatThrownBy(
            () ->
                db.write(
                    tx -> {
                      tx.update("INSERT INTO notes (slug, body) VALUES ('b', 'one')");
                      throw new SQLException("boom", "HY000");
                    }))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("boom");

    assertThat(column("SELECT slug FROM notes")).isEmpty();
  }

  @Test
  void duplicateKey_isAConstraintFailure() {
    db.write(tx -> tx.update("INSERT INTO notes (slug, body) VALUES ('c', 'one')"));

    assertThatThrownBy(
            () -> db.write(tx -> tx.update("INSERT INTO notes (slug, body) VALUES ('c', 'two')")))
        .isInstanceOfSatisfying(
            DatabaseException.class,
            e -> assertThat(e.kind()).isEqualTo(DatabaseException.Kind.CONSTRAINT));
  }

  @Test
  void read_neverChangesTheDatabase() {
    db.read(tx -> tx.update("INSERT INTO notes (slug, body) VALUES ('d', 'x')"));

    assertThat(column("SELECT slug FROM notes")).isEmpty();
  }

  @Test
  void migrate_twice_appliesOnce_andDataSurvivesReopen() {
    db.write(tx -> tx.update("INSERT INTO notes (slug, body) VALUES ('e', 'kept')"));
    db.close();
    db = Databases.embedded(dir, registry);
    db.migrate("test", "classpath:db/test", getClass().getClassLoader());

    assertThat(column("SELECT body FROM notes")).containsExactly("kept");
    assertThat(db.describe()).startsWith("embedded H2 (MySQL mode) at ").endsWith("foobar");
  }
}
