package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The jar's command line: bad configuration exits 2 naming the key; check-config; roles. */
class CommandLineIT {
  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          unknown key          | backend: {lsiten: 127.0.0.1:1}            | backend.lsiten
          wrong type           | backend: {limits: {max-headers: many}}    | backend.limits.max-headers
          bad duration         | backend: {drain-timeout: soon}            | backend.drain-timeout
          port out of range    | backend: {listen: 127.0.0.1:99999}        | backend.listen
          unreadable file      | lb: {tls: {cert: /nope/c.pem, key: /nope/k.pem}} | lb.tls.cert
          malformed CIDR       | backend: {allow: [10.0.0.0/33]}           | backend.allow
          duplicate listener   | backend: {listen: 127.0.0.1:7001, admin: 127.0.0.1:7001} | backend.admin
          missing directory    | backend: {static: {root: /nope/site}}     | backend.static.root
          unknown app          | backend: {apps: {nope: {prefix: /}}}      | backend.apps.nope: no application has this name; available: links
          pool cannot use it   | database: {primary: "jdbc:mysql://127.0.0.1:1/x", user: u, password: p, replica-timeout: 100ms} | database.replica-timeout must be at least 250ms, got 100ms
          app refuses config   | backend: {apps: {links: {prefix: /, config: {code-length: 2}}}} | backend.apps.links.config.code-length: expected an integer from 5 to 32
          """)
  void badConfig_exits2_namingTheKey(String kind, String yaml, String key) throws Exception {
    Path config = JarProcess.config(dir, yaml);
    JarProcess run = JarProcess.run(dir, "--role=backend", "--config=" + config);
    assertThat(run.exitCode()).as(kind + ": " + run.stderr()).isEqualTo(2);
    assertThat(run.stderr()).contains("config error: " + key);
    assertThat(run.stderr()).doesNotContain("Exception", "\tat ");
  }

  @Test
  void aTakenPort_exits1_namingTheListenerAndTheAddress() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      Path config =
          JarProcess.config(
              dir,
              "backend: {listen: 127.0.0.1:%d, admin: 127.0.0.1:%d}"
                  .formatted(port, JarProcess.freePort()));
      JarProcess run = JarProcess.run(dir, "--role=backend", "--config=" + config);
      assertThat(run.exitCode()).as(run.stderr()).isEqualTo(1);
      assertThat(run.stderr())
          .contains(
              "foobar: cannot start: cannot listen on 127.0.0.1:"
                  + port
                  + " (listener backend): Address already in use");
    }
  }

  @Test
  void missingConfigFile_exits2_namingTheFile() throws Exception {
    JarProcess run = JarProcess.run(dir, "--config=" + dir.resolve("absent.yml"));
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.stderr()).contains("absent.yml");
  }

  @Test
  void checkConfig_printsEffectiveConfig_withSecretsMasked() throws Exception {
    Path config =
        JarProcess.config(
            dir,
            """
            database:
              primary: jdbc:mysql://db1:3306/foobar
              replicas: [jdbc:mysql://db2:3306/foobar]
              user: foobar
              password: ${IT_DB_PASSWORD:-s3cret-value}
            """);
    JarProcess run = JarProcess.run(dir, "check-config", "--config=" + config);
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.stdout()).contains("primary: ", "db1:3306", "listen: ", "******");
    assertThat(run.stdout()).doesNotContain("s3cret-value");
  }

  @Test
  void checkConfig_badConfig_exits2() throws Exception {
    Path config = JarProcess.config(dir, "backend: {idle: 1s}");
    JarProcess run = JarProcess.run(dir, "check-config", "--config=" + config);
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.stderr()).contains("backend.idle");
  }

  @Test
  void roleNotBuiltYet_isRefusedWithExit2() throws Exception {
    for (String role : new String[] {"monitor"}) {
      JarProcess run = JarProcess.run(dir, "--role=" + role);
      assertThat(run.exitCode()).isEqualTo(2);
      assertThat(run.stderr()).contains("role " + role + " is not built yet");
    }
  }

  @Test
  void unknownRole_exits2() throws Exception {
    JarProcess run = JarProcess.run(dir, "--role=database");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.stderr()).contains("--role must be lb, backend, monitor or all");
  }

  @Test
  void helpAndVersion_exit0() throws Exception {
    JarProcess help = JarProcess.run(dir, "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.stdout()).contains("--role", "--config", "check-config");
    JarProcess version = JarProcess.run(dir, "--version");
    assertThat(version.exitCode()).isZero();
    assertThat(version.stdout()).startsWith("foobar ");
    assertThat(Files.exists(dir.resolve("data"))).isFalse();
  }
}
