package com.foobar.launcher;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar foobar.jar [--role=lb|backend|monitor|all] [--config=FILE]}: starts the role(s);
 * {@code check-config} validates a configuration; {@code certs init|issue} runs the internal CA.
 * Exit codes: 0 after a clean stop (SIGTERM included), 1 when start-up fails at run time (an
 * address in use), 2 for a usage or configuration error.
 */
@Command(
    name = "foobar",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    description = {
      "Runs a whole secured, monitored three-tier website from one jar.",
      "Roles: lb (load balancer), backend (web + app server), monitor, all (default)."
    },
    subcommands = {CheckConfig.class, Certs.class},
    footer = {
      "",
      "Exit codes: 0 stopped cleanly, 1 failed at run time, 2 usage or configuration error.",
      "JVM settings documented for a backend: -Xms160m -Xmx256m -Xmn96m -XX:+UseSerialGC (see README)."
    })
public final class Main implements Callable<Integer> {
  @Option(
      names = "--role",
      defaultValue = "all",
      paramLabel = "ROLE",
      description = "lb, backend, monitor or all (default: ${DEFAULT-VALUE})")
  String role;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "foobar.yml; omitted: the embedded defaults (the whole site on this machine)")
  Optional<Path> config;

  /** Entry point of the jar. */
  public static void main(String[] args) {
    int code = commandLine().execute(args);
    if (code != Launch.RUNNING) {
      System.exit(code);
    }
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("foobar: " + e.getMessage());
          return 1;
        });
    return cli;
  }

  @Override
  public Integer call() throws Exception {
    return new Launch(role, config, System.getenv(), System.err).run();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"foobar " + (v == null ? "dev" : v)};
    }
  }
}
