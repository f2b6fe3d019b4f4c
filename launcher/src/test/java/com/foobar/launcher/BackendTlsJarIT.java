package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backend.tls} with {@code client-auth: required}: the backend's site listener speaks HTTPS
 * and lets in only clients with a certificate from the internal CA (curl as the client).
 */
class BackendTlsJarIT {
  @TempDir static Path dir;
  static JarProcess jar;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    assertThat(JarProcess.run(dir, "certs", "init").exitCode()).isZero();
    for (String name : List.of("backend1", "lb1")) {
      JarProcess issue =
          JarProcess.run(dir, "certs", "issue", "--name", name, "--san", "127.0.0.1");
      assertThat(issue.exitCode()).as(issue.stderr()).isZero();
    }
    assertThat(JarProcess.run(dir, "certs", "init", "--dir", "other").exitCode()).isZero();
    assertThat(
            JarProcess.run(
                    dir, "certs", "issue", "--dir", "other", "--name", "lb1", "--san", "127.0.0.1")
                .exitCode())
        .isZero();
    port = JarProcess.freePort();
    int admin = JarProcess.freePort();
    Path config =
        JarProcess.config(
            dir,
            """
            backend:
              listen: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              tls:
                cert: certs/backend1.pem
                key: certs/backend1-key.pem
                ca: certs/ca.pem
                client-auth: required
            """
                .formatted(port, admin));
    jar = JarProcess.start(dir, "--role=backend", "--config=" + config);
    jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(30));
  }

  @AfterAll
  static void stop() {
    if (jar != null) {
      jar.close();
    }
  }

  @Test
  void clientWithCertificateFromTheCa_gets200() throws Exception {
    assertThat(
            curl(
                "--cacert",
                "certs/ca.pem",
                "--cert",
                "certs/lb1.pem",
                "--key",
                "certs/lb1-key.pem"))
        .isEqualTo("200");
  }

  @Test
  void clientWithoutCertificate_isRefused() throws Exception {
    assertThat(curl("--cacert", "certs/ca.pem")).isEqualTo("000");
  }

  @Test
  void clientWithCertificateFromAnotherCa_isRefused() throws Exception {
    assertThat(
            curl(
                "--cacert",
                "certs/ca.pem",
                "--cert",
                "other/lb1.pem",
                "--key",
                "other/lb1-key.pem"))
        .isEqualTo("000");
  }

  @Test
  void plainHttp_getsNoPage() throws Exception {
    Process p =
        new ProcessBuilder(
                "curl",
                "-s",
                "--max-time",
                "5",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "http://127.0.0.1:" + port + "/")
            .start();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
        .isNotEqualTo("200");
  }

  /** curl's {@code %{http_code}} for {@code GET /}: {@code 000} when no response came. */
  private static String curl(String... tlsArgs) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("curl", "-s", "--max-time", "10", "-o", "/dev/null"));
    command.addAll(List.of(tlsArgs));
    command.addAll(List.of("-w", "%{http_code}", "https://127.0.0.1:" + port + "/"));
    Process p = new ProcessBuilder(command).directory(dir.toFile()).start();
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
  }
}
