package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/dev-db.sh}: a real MariaDB primary and GTID replica, the replica read-only for the
 * least-privilege app user.
 */
class DevDbScriptIT {
  static final Path SCRIPT = Path.of("..", "scripts", "dev-db.sh").toAbsolutePath().normalize();
  @TempDir static Path dir;
  static int primary;
  static int replica;

  @BeforeAll
  static void start() throws Exception {
    String out = run(120, "bash", SCRIPT.toString(), "start", dir.toString());
    assertThat(out).contains("primary: 127.0.0.1:", "replica: 127.0.0.1:");
    primary = Integer.parseInt(Files.readString(dir.resolve("primary/port")).trim());
    replica = Integer.parseInt(Files.readString(dir.resolve("replica/port")).trim());
  }

  @AfterAll
  static void stop() throws Exception {
    run(60, "bash", SCRIPT.toString(), "stop", dir.toString());
  }

  static String run(int seconds, String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(seconds, TimeUnit.SECONDS)).as("finishes: " + out).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + out).isZero();
    return out;
  }

  /** Runs {@code sql} as the app user; returns the output, or the error when it fails. */
  static String sql(int port, String sql) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "mariadb",
                "--no-defaults",
                "-h127.0.0.1",
                "-P" + port,
                "-ufoobar",
                "-pfoobar-dev",
                "-N",
                "foobar",
                "-e",
                sql));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return (p.exitValue() == 0 ? "" : "ERROR ") + out.strip();
  }

  @Test
  void writeOnPrimary_replicatesToReplica_whichRefusesAppWrites() throws Exception {
    assertThat(sql(primary, "SELECT @@server_id")).isEqualTo("1");
    assertThat(sql(replica, "SELECT @@server_id, @@read_only")).isEqualTo("2\t1");
    assertThat(
            sql(
                primary,
                "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v VARCHAR(20));"
                    + " REPLACE INTO t VALUES (1, 'replicated')"))
        .isEmpty();
    String gtid = sql(primary, "INSERT INTO t VALUES (2, 'x'); SELECT @@last_gtid");
    assertThat(gtid).matches("0-1-\\d+");
    // MASTER_GTID_WAIT: 0 once the replica has applied the write, -1 on timeout
    assertThat(sql(replica, "SELECT MASTER_GTID_WAIT('" + gtid + "', 10)")).isEqualTo("0");
    assertThat(sql(replica, "SELECT v FROM t WHERE id = 1")).isEqualTo("replicated");
    assertThat(sql(replica, "INSERT INTO t VALUES (3, 'no')"))
        .startsWith("ERROR")
        .contains("read-only");
  }
}
