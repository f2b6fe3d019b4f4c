package com.foobar.replication;

import com.foobar.core.DatabaseConfig;
import com.foobar.core.Secret;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * Benchmark (run by {@code bench/app.sh}, not a test): the same point query, {@code SELECT url FROM
 * links WHERE code = ?} over {@code codes} codes, run by {@code threads} threads for alternating
 * rounds (order swapped every round) (a) on one plain HikariCP pool to the replica, auto-commit,
 * and (b) through {@link Database#queryOne}, which routes to the same replica (one auto-commit
 * statement, as plain JDBC). Prints queries per second of each round and the ratio b/a: the cost of
 * the routing layer.
 *
 * <p>Arguments: primaryUrl replicaUrl user password threads secondsPerRound rounds codes
 */
public final class ReadPathBench {
  private static final String SQL = "SELECT url FROM links WHERE code = ?";

  private ReadPathBench() {}

  public static void main(String[] args) throws Exception {
    String primary = args[0];
    String replica = args[1];
    String user = args[2];
    String password = args[3];
    int threads = Integer.parseInt(args[4]);
    Duration round = Duration.ofSeconds(Long.parseLong(args[5]));
    int rounds = Integer.parseInt(args[6]);
    int codes = Integer.parseInt(args[7]);

    HikariConfig plainConfig = new HikariConfig();
    plainConfig.setJdbcUrl(replica);
    plainConfig.setUsername(user);
    plainConfig.setPassword(password);
    plainConfig.setMaximumPoolSize(threads);
    plainConfig.setPoolName("plain");
    DatabaseConfig config =
        new DatabaseConfig(
            primary,
            List.of(replica),
            user,
            new Secret(password),
            threads,
            Duration.ofSeconds(2),
            Duration.ofMillis(250),
            Duration.ofSeconds(2),
            false);
    try (HikariDataSource plain = new HikariDataSource(plainConfig);
        Database routed =
            Databases.open(Optional.of(config), Path.of("unused"), new SimpleMeterRegistry())) {
      // what a plain JDBC loop does: borrow, one auto-commit query, return
      Query viaPlain =
          code -> {
            try (Connection c = plain.getConnection()) {
              return select(c, code);
            }
          };
      Query viaRouted =
          code ->
              routed
                  .queryOne(SQL, r -> r.getString(1), code)
                  .orElseThrow(() -> new SQLException("code " + code + " not found"));
      // warm-up: JIT, pools, the server's buffer pool
      run(viaPlain, threads, Duration.ofSeconds(3), codes);
      run(viaRouted, threads, Duration.ofSeconds(3), codes);
      List<Double> ratios = new ArrayList<>();
      System.out.printf("%-6s %12s %12s %8s%n", "round", "plain q/s", "routed q/s", "ratio");
      for (int i = 1; i <= rounds; i++) {
        // alternate which goes first, so a machine that speeds up or slows down favours neither
        double a;
        double b;
        if (i % 2 == 1) {
          a = run(viaPlain, threads, round, codes);
          b = run(viaRouted, threads, round, codes);
        } else {
          b = run(viaRouted, threads, round, codes);
          a = run(viaPlain, threads, round, codes);
        }
        ratios.add(b / a);
        System.out.printf("%-6d %12.0f %12.0f %8.3f%n", i, a, b, b / a);
      }
      ratios.sort(Double::compare);
      System.out.printf("median routed/plain: %.3f%n", ratios.get(ratios.size() / 2));
    }
  }

  private static String select(Connection c, String code) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(SQL)) {
      s.setString(1, code);
      try (ResultSet r = s.executeQuery()) {
        if (!r.next()) {
          throw new SQLException("code " + code + " not found; was the table seeded?");
        }
        return r.getString(1);
      }
    }
  }

  @FunctionalInterface
  private interface Query {
    String run(String code) throws SQLException;
  }

  /** Queries per second of {@code threads} threads running {@code query} for {@code time}. */
  private static double run(Query query, int threads, Duration time, int codes)
      throws InterruptedException {
    LongAdder done = new LongAdder();
    long end = System.nanoTime() + time.toNanos();
    List<Thread> workers = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < threads; t++) {
      Thread worker =
          new Thread(
              () -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                try {
                  while (System.nanoTime() < end) {
                    query.run("c" + (1 + random.nextInt(codes)));
                    done.increment();
                  }
                } catch (SQLException | RuntimeException e) {
                  failures.add(e);
                }
              });
      worker.start();
      workers.add(worker);
    }
    for (Thread w : workers) {
      w.join();
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException("a query failed", failures.get(0));
    }
    return done.sum() / (time.toNanos() / 1e9);
  }
}
