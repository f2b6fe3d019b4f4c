package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code certs init} / {@code certs issue} through the real jar, checked by openssl. */
class CertsJarIT {
  @TempDir Path dir;

  @Test
  void initThenIssue_writesPem_thatOpensslVerifies() throws Exception {
    JarProcess init = JarProcess.run(dir, "certs", "init");
    assertThat(init.exitCode()).as(init.stderr()).isZero();
    Path certs = dir.resolve("certs");
    assertThat(init.stdout()).contains("wrote certs/ca.pem", "wrote certs/ca-key.pem");
    assertThat(mode(certs.resolve("ca-key.pem"))).isEqualTo("rw-------");

    JarProcess issue =
        JarProcess.run(
            dir, "certs", "issue", "--name", "backend1", "--san", "10.0.0.11", "--san", "b1.lan");
    assertThat(issue.exitCode()).as(issue.stderr()).isZero();
    assertThat(issue.stdout()).contains("wrote certs/backend1.pem", "wrote certs/backend1-key.pem");
    assertThat(mode(certs.resolve("backend1-key.pem"))).isEqualTo("rw-------");

    // scripts/test.sh installs openssl
    assertThat(openssl("verify", "-CAfile", "certs/ca.pem", "certs/backend1.pem"))
        .contains("certs/backend1.pem: OK");
    assertThat(openssl("x509", "-in", "certs/backend1.pem", "-noout", "-text"))
        .contains("IP Address:10.0.0.11", "DNS:b1.lan")
        .contains("TLS Web Server Authentication, TLS Web Client Authentication");
    assertThat(openssl("pkey", "-in", "certs/backend1-key.pem", "-noout", "-text"))
        .contains("prime256v1");
  }

  @Test
  void init_twice_refusesToOverwrite_exit2() throws Exception {
    assertThat(JarProcess.run(dir, "certs", "init", "--dir", "ca").exitCode()).isZero();
    String before = Files.readString(dir.resolve("ca/ca.pem"));

    JarProcess again = JarProcess.run(dir, "certs", "init", "--dir", "ca");

    assertThat(again.exitCode()).isEqualTo(2);
    assertThat(again.stderr()).contains("refusing to overwrite the CA");
    assertThat(Files.readString(dir.resolve("ca/ca.pem"))).isEqualTo(before);
  }

  @Test
  void issue_withoutCa_orWithBadName_exit2() throws Exception {
    JarProcess noCa = JarProcess.run(dir, "certs", "issue", "--name", "n1", "--san", "10.0.0.1");
    assertThat(noCa.exitCode()).isEqualTo(2);
    assertThat(noCa.stderr()).contains("run certs init");

    assertThat(JarProcess.run(dir, "certs", "init").exitCode()).isZero();
    JarProcess badName =
        JarProcess.run(dir, "certs", "issue", "--name", "../evil", "--san", "10.0.0.1");
    assertThat(badName.exitCode()).isEqualTo(2);
    assertThat(badName.stderr()).contains("--name: '../evil'");
    assertThat(badName.stderr()).doesNotContain("Exception");
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private String openssl(String... args) throws Exception {
    String[] command = new String[args.length + 1];
    command[0] = "openssl";
    System.arraycopy(args, 0, command, 1, args.length);
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
