package com.foobar.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.foobar.core.DatabaseConfig;
import com.foobar.replication.MariaDbPair.Node;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link ReplicatedDatabase} on a real MariaDB primary (server id 1) and replica (server id 2). */
class ReplicatedDatabaseIT {
  @RegisterExtension static final MariaDbPair pair = new MariaDbPair();
  @TempDir Path dataDir;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeAll
  static void migrate() {
    try (Database db = open(pair.config().build(), new SimpleMeterRegistry())) {
      db.migrate("test", "classpath:db/test", ReplicatedDatabaseIT.class.getClassLoader());
    }
    pair.waitForReplica();
  }

  private static Database open(DatabaseConfig config, SimpleMeterRegistry registry) {
    return Databases.open(Optional.of(config), Path.of("unused"), registry);
  }

  private Database open(MariaDbPair.ConfigBuilder config) {
    return open(config.build(), registry);
  }

  private static int serverId(Tx tx) throws java.sql.SQLException {
    return tx.queryOne("SELECT @@server_id", r -> r.getInt(1)).orElseThrow();
  }

  private record Served(Tx.Route route, String server, int serverId) {}

  private static Served served(Database db) {
    return db.read(tx -> new Served(tx.route(), tx.server(), serverId(tx)));
  }

  private double fallbacks(String reason) {
    return registry.get("foobar.db.read.fallbacks").tag("reason", reason).counter().count();
  }

  private double replicaUp() {
    return registry.get("foobar.db.replica.up").tag("server", "replica-1").gauge().value();
  }

  @Test
  void read_runsOnTheReplica_write_onThePrimary() {
    try (Database db = open(pair.config())) {
      assertThat(served(db)).isEqualTo(new Served(Tx.Route.REPLICA, "replica-1", 2));
      Served write = db.write(tx -> new Served(tx.route(), tx.server(), serverId(tx)));
      assertThat(write).isEqualTo(new Served(Tx.Route.PRIMARY, "primary", 1));

      assertThat(
              registry.get("foobar.db.tx").tags("kind", "read", "route", "replica").timer().count())
          .isEqualTo(1);
      assertThat(
              registry
                  .get("foobar.db.tx")
                  .tags("kind", "write", "server", "primary")
                  .timer()
                  .count())
          .isEqualTo(1);
      for (String pool : List.of("primary", "replica-1")) {
        assertThat(registry.get("hikaricp.connections.active").tag("pool", pool).gauge())
            .isNotNull();
      }
      assertThat(replicaUp()).isEqualTo(1);
      assertThat(db.describe())
          .isEqualTo(
              "primary 127.0.0.1:"
                  + pair.port(Node.PRIMARY)
                  + ", replicas 127.0.0.1:"
                  + pair.port(Node.REPLICA))
          .doesNotContain(pair.password());
    }
  }

  @Test
  void write_thenWaitForReplica_readOnTheReplicaSeesIt() {
    try (Database db = open(pair.config())) {
      db.write(tx -> tx.update("INSERT INTO notes (slug, body) VALUES ('rw', 'replicated')"));
      pair.waitForReplica();

      String body =
          db.read(
              tx -> {
                assertThat(tx.route()).isEqualTo(Tx.Route.REPLICA);
                return tx.queryOne("SELECT body FROM notes WHERE slug = 'rw'", r -> r.getString(1))
                    .orElseThrow();
              });

      assertThat(body).isEqualTo("replicated");
    }
  }

  @Test
  void readOnTheReplica_cannotWrite_becauseItIsReadOnly() {
    try (Database db = open(pair.config())) {
      assertThatThrownBy(
              () -> db.read(tx -> tx.update("INSERT INTO notes (slug, body) VALUES ('no', 'x')")))
          .isInstanceOfSatisfying(
              DatabaseException.class,
              e -> assertThat(e.kind()).isEqualTo(DatabaseException.Kind.FAILED))
          .hasMessageContaining("read-only");
      assertThat(fallbacks("failed")).isZero();
    }
  }

  @Test
  void replicaStopped_readsFallBackToThePrimaryFast_andReturnWhenItIsBack() {
    Duration retry = Duration.ofSeconds(3);
    try (Database db =
        open(pair.config().replicaTimeout(Duration.ofMillis(500)).replicaRetry(retry))) {
      assertThat(served(db).serverId()).isEqualTo(2);
      try {
        pair.stopReplica();

        // the first read finds the replica broken, marks it down and reruns on the primary
        assertThat(served(db)).isEqualTo(new Served(Tx.Route.PRIMARY, "primary", 1));
        assertThat(fallbacks("failed")).isEqualTo(1);
        assertThat(replicaUp()).isZero();
        // while it is marked down, reads skip it without waiting for its pool
        for (int i = 0; i < 5; i++) {
          long start = System.nanoTime();
          assertThat(served(db).serverId()).isEqualTo(1);
          assertThat(Duration.ofNanos(System.nanoTime() - start))
              .isLessThan(Duration.ofMillis(200));
        }
        assertThat(fallbacks("no_replica")).isEqualTo(5);
      } finally {
        pair.startReplica();
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (served(db).serverId() != 2) {
        assertThat(System.nanoTime()).as("replica back within 30s").isLessThan(deadline);
        sleep(Duration.ofMillis(100));
      }
      assertThat(replicaUp()).isEqualTo(1);
    }
  }

  @Test
  void replicaPoolExhausted_readFallsBackWithReasonTimeout_andTheReplicaStaysUp() throws Exception {
    try (Database db = open(pair.config().poolSize(1).replicaTimeout(Duration.ofMillis(300)))) {
      CountDownLatch holding = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      ExecutorService other = Executors.newSingleThreadExecutor();
      try {
        CompletableFuture<Integer> held =
            CompletableFuture.supplyAsync(
                () ->
                    db.read(
                        tx -> {
                          holding.countDown();
                          await(release);
                          return serverId(tx);
                        }),
                other);
        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();

        assertThat(served(db)).isEqualTo(new Served(Tx.Route.PRIMARY, "primary", 1));

        release.countDown();
        assertThat(held.get(10, TimeUnit.SECONDS)).isEqualTo(2);
      } finally {
        release.countDown();
        other.shutdown();
      }
      assertThat(fallbacks("timeout")).isEqualTo(1);
      assertThat(replicaUp()).isEqualTo(1);
      assertThat(served(db).serverId()).isEqualTo(2);
    }
  }

  @Test
  void migrationsFromTwoBackendsAtOnce_applyOnce_andReplicate() throws Exception {
    ClassLoader loader = getClass().getClassLoader();
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService backends = Executors.newFixedThreadPool(2);
    try (Database one = open(pair.config().build(), new SimpleMeterRegistry());
        Database two = open(pair.config().build(), new SimpleMeterRegistry())) {
      List<CompletableFuture<Void>> runs =
          List.of(one, two).stream()
              .map(
                  db ->
                      CompletableFuture.runAsync(
                          () -> {
                            await(start);
                            db.migrate("concurrent", "classpath:db/concurrent", loader);
                          },
                          backends))
              .toList();
      for (CompletableFuture<Void> run : runs) {
        run.get(60, TimeUnit.SECONDS);
      }
    } finally {
      backends.shutdown();
    }

    assertThat(pair.rootSql(Node.PRIMARY, "SELECT COUNT(*) FROM foobar.concurrent_marks"))
        .isEqualTo("1");
    assertThat(
            pair.rootSql(
                Node.PRIMARY,
                "SELECT version, COUNT(*) FROM foobar.foobar_schema_concurrent"
                    + " WHERE success = 1 GROUP BY version ORDER BY version"))
        .endsWith("1\t1\n2\t1");
    pair.waitForReplica();
    assertThat(pair.rootSql(Node.REPLICA, "SELECT note FROM foobar.concurrent_marks"))
        .isEqualTo("applied once");
  }

  @Test
  void primaryDown_writeFailsUnavailable_andNeverGoesToTheReplica() {
    try (Database db = open(pair.config())) {
      try {
        pair.stop(Node.PRIMARY);
        long start = System.nanoTime();

        assertThatThrownBy(() -> db.write(ReplicatedDatabaseIT::serverId))
            .isInstanceOfSatisfying(
                DatabaseException.class,
                e -> assertThat(e.kind()).isEqualTo(DatabaseException.Kind.UNAVAILABLE))
            .hasMessageContaining("write on primary (127.0.0.1:" + pair.port(Node.PRIMARY) + ")");

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        // reads carry on on the replica
        assertThat(served(db).serverId()).isEqualTo(2);
      } finally {
        pair.start(Node.PRIMARY);
      }
    }
  }

  @Test
  void primaryUnreachableAtStart_failsUnavailable_namingIt() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    String url = "jdbc:mysql://127.0.0.1:" + closed + "/foobar";

    assertThatThrownBy(
            () -> open(pair.config().primary(url).connectionTimeout(Duration.ofMillis(500))))
        .isInstanceOfSatisfying(
            DatabaseException.class,
            e -> assertThat(e.kind()).isEqualTo(DatabaseException.Kind.UNAVAILABLE))
        .hasMessageContaining("primary " + url + " unreachable at start-up within 500ms")
        .hasMessageNotContaining(pair.password());
  }

  @Test
  void replicaDownAtStart_doesNotStopStartUp_readsFallBack() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    String replica = "jdbc:mysql://127.0.0.1:" + closed + "/foobar";
    try (Database db =
        open(pair.config().replicas(List.of(replica)).replicaTimeout(Duration.ofMillis(300)))) {
      assertThat(served(db).serverId()).isEqualTo(1);
      assertThat(fallbacks("failed")).isEqualTo(1);
      assertThat(replicaUp()).isZero();
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void await(CyclicBarrier barrier) {
    try {
      barrier.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Bounded polling for a real server to come back, not for time to pass in the code under test.
   */
  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
