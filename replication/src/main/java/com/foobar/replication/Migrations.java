package com.foobar.replication;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies one application's Flyway migrations with its own history table. */
final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {}

  /**
   * Migrates {@code dataSource} (the primary) to the newest version at {@code location}. Flyway
   * serializes concurrent runs with a database lock ({@code GET_LOCK} on MySQL/MariaDB), so two
   * backends starting at once apply each migration once.
   */
  static void apply(DataSource dataSource, String app, String location, ClassLoader loader) {
    MigrateResult result;
    try {
      result =
          Flyway.configure(loader)
              .dataSource(dataSource)
              .locations(location)
              .table("foobar_schema_" + app.replace('-', '_'))
              .baselineOnMigrate(true)
              .baselineVersion("0")
              .load()
              .migrate();
    } catch (FlywayException e) {
      throw new DatabaseException(
          DatabaseException.Kind.FAILED,
          "migrations of app '" + app + "' at " + location + " failed: " + e.getMessage(),
          e);
    }
    log.atInfo()
        .addKeyValue("event", "db.migrated")
        .addKeyValue("app", app)
        .addKeyValue("applied", result.migrationsExecuted)
        .addKeyValue("version", String.valueOf(result.targetSchemaVersion))
        .log("app {}: {} migrations applied", app, result.migrationsExecuted);
  }
}
