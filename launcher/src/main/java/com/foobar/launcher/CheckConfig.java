package com.foobar.launcher;

import com.foobar.core.ConfigLoader;
import com.foobar.core.FoobarConfig;
import com.foobar.core.Role;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code foobar check-config --config=FILE}: validates and prints the effective configuration. */
@Command(
    name = "check-config",
    mixinStandardHelpOptions = true,
    description = {
      "Validates a configuration and prints the effective configuration (defaults merged,",
      "${ENV} substituted, secrets masked). Exit 0 when valid, 2 with one line per problem."
    })
final class CheckConfig implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "FILE", description = "foobar.yml to check")
  Optional<Path> config;

  @Option(
      names = "--role",
      defaultValue = "all",
      paramLabel = "ROLE",
      description = "the role(s) whose listeners must not collide (default: ${DEFAULT-VALUE})")
  String role;

  @Override
  public Integer call() {
    Set<Role> roles;
    try {
      roles = Roles.parse(role);
    } catch (IllegalArgumentException e) {
      System.err.println("foobar: " + e.getMessage());
      return 2;
    }
    Optional<FoobarConfig> loaded = Launch.loadConfig(config, System.getenv(), roles, System.err);
    if (loaded.isEmpty()) {
      return 2;
    }
    System.out.print(ConfigLoader.toYaml(loaded.get()));
    System.err.println("config ok: " + config.map(Path::toString).orElse("(embedded defaults)"));
    return 0;
  }
}
