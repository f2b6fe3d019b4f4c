package com.foobar.launcher;

import com.foobar.core.InternalCa;
import com.foobar.core.TlsMaterialException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foobar certs init|issue}: the internal CA whose certificates the tiers use towards each
 * other (mTLS between lb and backends). Exit 0 after writing, 2 for a usage error, an existing CA
 * ({@code init}) or a missing one ({@code issue}), 1 when a file cannot be written.
 */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    description = {
      "The internal CA for TLS between the tiers:",
      "  certs init                      creates ca.pem and ca-key.pem",
      "  certs issue --name N --san X    issues N.pem (certificate + CA) and N-key.pem"
    },
    subcommands = {Certs.Init.class, Certs.Issue.class})
final class Certs implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("foobar certs: say init or issue (see --help)");
    return 2;
  }

  /** {@code certs init [--dir DIR]}. */
  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = {
        "Creates the internal CA (ECDSA P-256, 10 years) in DIR: ca.pem and ca-key.pem (mode 600).",
        "Refuses to overwrite an existing CA."
      })
  static final class Init implements Callable<Integer> {
    @Option(
        names = "--dir",
        defaultValue = "certs",
        paramLabel = "DIR",
        description = "where the CA lives (default: ${DEFAULT-VALUE})")
    Path dir;

    @Override
    public Integer call() {
      return write(() -> InternalCa.init(dir, Clock.systemUTC()));
    }
  }

  /** {@code certs issue --name NAME --san X [--san Y] [--dir DIR]}. */
  @Command(
      name = "issue",
      mixinStandardHelpOptions = true,
      description = {
        "Issues a node certificate (ECDSA P-256, 1 year, server and client use) signed by the CA",
        "in DIR: NAME.pem (certificate, then the CA) and NAME-key.pem (mode 600). Re-issuing",
        "replaces them."
      })
  static final class Issue implements Callable<Integer> {
    @Option(
        names = "--name",
        required = true,
        paramLabel = "NAME",
        description = "the node's name, e.g. backend1 (lower-case letters, digits, . _ -)")
    String name;

    @Option(
        names = "--san",
        required = true,
        paramLabel = "NAME_OR_IP",
        description = "a DNS name or IP address the certificate is valid for; repeatable")
    List<String> sans;

    @Option(
        names = "--dir",
        defaultValue = "certs",
        paramLabel = "DIR",
        description = "where the CA lives (default: ${DEFAULT-VALUE})")
    Path dir;

    @Override
    public Integer call() {
      return write(() -> InternalCa.issue(dir, name, sans, Clock.systemUTC()));
    }
  }

  private interface Writer {
    List<Path> write();
  }

  private static int write(Writer writer) {
    List<Path> written;
    try {
      written = writer.write();
    } catch (TlsMaterialException e) {
      System.err.println("foobar certs: " + e.getMessage());
      return 2;
    } catch (UncheckedIOException e) {
      System.err.println("foobar certs: " + e.getMessage());
      return 1;
    }
    for (Path p : written) {
      System.out.println("wrote " + p);
    }
    return 0;
  }
}
