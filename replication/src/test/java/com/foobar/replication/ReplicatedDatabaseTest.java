package com.foobar.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.foobar.core.DatabaseConfig;
import com.foobar.core.Secret;
import com.mysql.cj.jdbc.exceptions.CommunicationsException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What needs no server: configuration checks and the classification of failures. */
class ReplicatedDatabaseTest {

  private static DatabaseConfig config(int poolSize, Duration replicaTimeout) {
    return new DatabaseConfig(
        "jdbc:mysql://127.0.0.1:1/foobar",
        List.of("jdbc:mysql://127.0.0.1:2/foobar"),
        "foobar",
        new Secret("pw"),
        poolSize,
        Duration.ofSeconds(1),
        replicaTimeout,
        Duration.ofSeconds(2),
        true);
  }

  @Test
  void replicaTimeout_belowHikariMinimum_isRefused_notSilentlyRaisedTo30s() {
    assertThatThrownBy(
            () ->
                ReplicatedDatabase.open(
                    config(4, Duration.ofMillis(100)), new SimpleMeterRegistry(), System::nanoTime))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("database.replica-timeout must be at least 250ms, got 100ms");
  }

  @Test
  void poolSize_zero_isRefused() {
    assertThatThrownBy(
            () ->
                ReplicatedDatabase.open(
                    config(0, Duration.ofSeconds(1)), new SimpleMeterRegistry(), System::nanoTime))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("database.pool-size must be at least 1, got 0");
  }

  @Test
  void connectionErrors_areSqlState08_orCommunicationsFailures_anywhereInTheCauses() {
    assertThat(ReplicatedDatabase.isConnectionError(new SQLException("reset", "08S01"))).isTrue();
    assertThat(
            ReplicatedDatabase.isConnectionError(
                new SQLTransientConnectionException(
                    "replica-1 - Connection is not available",
                    null,
                    new CommunicationsException("Communications link failure", null))))
        .isTrue();
    assertThat(
            ReplicatedDatabase.isConnectionError(
                new SQLTransientConnectionException(
                    "replica-1 - Connection is not available, request timed out")))
        .as("pool exhausted: the server is fine")
        .isFalse();
    assertThat(ReplicatedDatabase.isConnectionError(new SQLException("syntax", "42000"))).isFalse();
  }
}
