package com.foobar.replication;

import com.foobar.core.DatabaseConfig;
import com.foobar.core.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real MariaDB primary and GTID replica for integration tests, started by {@code
 * scripts/dev-db.sh} in a fresh temporary directory once per test class and stopped (and deleted)
 * after it:
 *
 * <pre>{@code
 * @RegisterExtension static final MariaDbPair db = new MariaDbPair();
 * ... Databases.open(Optional.of(db.config().build()), dir, registry)
 * }</pre>
 *
 * <p>The replica is {@code read_only}; {@link #user()} is the script's least-privilege app user (no
 * SUPER), so its writes cannot pass {@code read_only}. {@link #rootSql} runs statements as root
 * over the server's socket. When {@code mariadbd} is not installed, {@code beforeAll} fails with a
 * message saying so (scripts/test.sh installs it): these tests never skip silently.
 */
public final class MariaDbPair implements BeforeAllCallback, AfterAllCallback {

  /** One of the two servers. */
  public enum Node {
    PRIMARY,
    REPLICA;

    String dirName() {
      return this == PRIMARY ? "primary" : "replica";
    }
  }

  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(2);

  private final String password = System.getenv().getOrDefault("FOOBAR_DB_PASSWORD", "foobar-dev");
  private Path script;
  private Path dir;
  private int primaryPort;
  private int replicaPort;
  private int users;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    // @Nested classes see the outer class's extension again: keep the one pair
    if (users++ > 0) {
      return;
    }
    requireMariadbd();
    script = repoRoot().resolve("scripts/dev-db.sh");
    dir = Files.createTempDirectory("foobar-mariadb-");
    script("start");
    primaryPort = Integer.parseInt(Files.readString(dir.resolve("primary/port")).trim());
    replicaPort = Integer.parseInt(Files.readString(dir.resolve("replica/port")).trim());
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (--users > 0 || dir == null) {
      return;
    }
    script("stop");
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** {@code jdbc:mysql://127.0.0.1:PORT/foobar} of the primary. */
  public String primaryUrl() {
    return url(primaryPort);
  }

  /** {@code jdbc:mysql://127.0.0.1:PORT/foobar} of the replica. */
  public String replicaUrl() {
    return url(replicaPort);
  }

  /** The TCP port of {@code node}. */
  public int port(Node node) {
    return node == Node.PRIMARY ? primaryPort : replicaPort;
  }

  /** The least-privilege app user, {@code foobar}. */
  public String user() {
    return "foobar";
  }

  /** Its password: {@code $FOOBAR_DB_PASSWORD}, default {@code foobar-dev}. */
  public String password() {
    return password;
  }

  /**
   * A configuration of this pair (primary, one replica, the app user) with test-sized defaults:
   * pool size 4, connection and replica timeouts 1 s, replica retry 1 s, migrate on.
   */
  public ConfigBuilder config() {
    return new ConfigBuilder(primaryUrl(), List.of(replicaUrl()), user(), password);
  }

  /** Stops the replica gracefully (its pool's connections break); see {@link #startReplica}. */
  public void stopReplica() {
    stop(Node.REPLICA);
  }

  /** Starts the replica again on the same port and data; replication resumes. */
  public void startReplica() {
    start(Node.REPLICA);
  }

  /** Stops {@code node} gracefully and waits until it has exited. */
  public void stop(Node node) {
    script("stop-node", node.dirName());
  }

  /** Starts {@code node} again on the same port and data and waits until it answers. */
  public void start(Node node) {
    script("start-node", node.dirName());
  }

  /**
   * Runs {@code sql} as root over {@code node}'s socket ({@code mariadb -N -B}); returns its
   * output, tab-separated, without headers.
   *
   * @throws AssertionError with the client's output when it fails
   */
  public String rootSql(Node node, String sql) {
    return run(
            Duration.ofSeconds(60),
            "mariadb",
            "--no-defaults",
            "--protocol=socket",
            "--socket=" + dir.resolve(node.dirName()).resolve("mysqld.sock"),
            "-uroot",
            "-N",
            "-B",
            "-e",
            sql)
        .strip();
  }

  /** {@code @@server_id} of {@code node}: 1 for the primary, 2 for the replica. */
  public int serverId(Node node) {
    return Integer.parseInt(rootSql(node, "SELECT @@server_id"));
  }

  /**
   * Waits (up to 30 s) until the replica has applied everything the primary has written so far:
   * {@code MASTER_GTID_WAIT} of the primary's {@code @@gtid_binlog_pos}.
   *
   * @throws AssertionError with the replica's status when it does not catch up
   */
  public void waitForReplica() {
    String position = rootSql(Node.PRIMARY, "SELECT @@gtid_binlog_pos");
    String result = rootSql(Node.REPLICA, "SELECT MASTER_GTID_WAIT('" + position + "', 30)");
    if (!result.equals("0")) {
      throw new AssertionError(
          "replica did not reach primary position "
              + position
              + " within 30s (MASTER_GTID_WAIT "
              + result
              + "):\n"
              + rootSql(Node.REPLICA, "SHOW SLAVE STATUS\\G"));
    }
  }

  private static String url(int port) {
    return "jdbc:mysql://127.0.0.1:" + port + "/foobar";
  }

  private void script(String... args) {
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.add(args[0]);
    command.add(dir.toString());
    command.addAll(List.of(args).subList(1, args.length));
    run(SCRIPT_TIMEOUT, command.toArray(String[]::new));
  }

  private static String run(Duration timeout, String... command) {
    try {
      Path out = Files.createTempFile("foobar-mariadb-", ".out");
      try {
        // to a file, not a pipe: mariadbd started in the background inherits the script's stdout
        Process p =
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          throw new AssertionError(
              String.join(" ", command) + " did not finish within " + timeout + ":\n" + read(out));
        }
        if (p.exitValue() != 0) {
          throw new AssertionError(
              String.join(" ", command) + " exited " + p.exitValue() + ":\n" + read(out));
        }
        return read(out);
      } finally {
        Files.delete(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + String.join(" ", command), e);
    }
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private static void requireMariadbd() {
    boolean onPath =
        Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
            .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, "mariadbd")));
    if (!onPath && !Files.isExecutable(Path.of("/usr/sbin/mariadbd"))) {
      throw new IllegalStateException(
          "MariaDB integration tests need mariadbd (Debian package mariadb-server), which is not"
              + " installed: run scripts/test.sh, which installs it, or apt-get install"
              + " mariadb-server");
    }
  }

  /**
   * The repository root: the nearest directory up from the working directory holding the script.
   */
  static Path repoRoot() {
    Path start = Path.of("").toAbsolutePath();
    for (Path d = start; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("scripts/dev-db.sh"))) {
        return d;
      }
    }
    throw new IllegalStateException("no scripts/dev-db.sh in " + start + " or any parent");
  }

  /** Builds a {@link DatabaseConfig} for this pair; see {@link MariaDbPair#config()}. */
  public static final class ConfigBuilder {
    private String primary;
    private List<String> replicas;
    private final String user;
    private final String password;
    private int poolSize = 4;
    private Duration connectionTimeout = Duration.ofSeconds(1);
    private Duration replicaTimeout = Duration.ofSeconds(1);
    private Duration replicaRetry = Duration.ofSeconds(1);
    private boolean migrate = true;

    private ConfigBuilder(String primary, List<String> replicas, String user, String password) {
      this.primary = primary;
      this.replicas = replicas;
      this.user = user;
      this.password = password;
    }

    public ConfigBuilder primary(String url) {
      this.primary = url;
      return this;
    }

    public ConfigBuilder replicas(List<String> urls) {
      this.replicas = List.copyOf(urls);
      return this;
    }

    public ConfigBuilder poolSize(int size) {
      this.poolSize = size;
      return this;
    }

    public ConfigBuilder connectionTimeout(Duration timeout) {
      this.connectionTimeout = timeout;
      return this;
    }

    public ConfigBuilder replicaTimeout(Duration timeout) {
      this.replicaTimeout = timeout;
      return this;
    }

    public ConfigBuilder replicaRetry(Duration retry) {
      this.replicaRetry = retry;
      return this;
    }

    public ConfigBuilder migrate(boolean migrate) {
      this.migrate = migrate;
      return this;
    }

    public DatabaseConfig build() {
      return new DatabaseConfig(
          primary,
          replicas,
          user,
          new Secret(password),
          poolSize,
          connectionTimeout,
          replicaTimeout,
          replicaRetry,
          migrate);
    }
  }
}
