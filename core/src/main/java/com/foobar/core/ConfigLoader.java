package com.foobar.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Loads {@code foobar.yml}: the file's tree is deep-merged over the embedded {@code
 * foobar-defaults.yml} (mappings merge key by key; lists and scalars replace; an explicit {@code
 * null} or {@code ~} removes an optional key; an optional section that is given, such as {@code
 * database}, is merged over its own defaults in {@code foobar-section-defaults.yml}), {@code
 * ${VAR}} and {@code ${VAR:-default}} are substituted in string values, and the result is bound
 * onto {@link FoobarConfig} and validated.
 *
 * <p>Binding rules: keys are the kebab-case record component names ({@code adminAccess} ↔ {@code
 * admin-access}; {@code BackendConfig.staticFiles} ↔ {@code static}); an unknown key is an error;
 * booleans are {@code true}/{@code false} only; durations are {@code 250ms}, {@code 2s}, {@code
 * 1m}, {@code 1h}; numbers, durations and sizes must be greater than zero unless the record's
 * javadoc says zero is allowed; strings must not be empty; enums are written in lowercase kebab
 * case; a relative path is resolved against the directory of the config file (the working directory
 * when there is none).
 *
 * <p>Problems are collected, not thrown at the first one: {@link ConfigException#problems()} lists
 * all of them, one line each, naming key path, value and expectation.
 */
public final class ConfigLoader {
  private static final String DEFAULTS = "/foobar-defaults.yml";
  private static final String SECTION_DEFAULTS = "/foobar-section-defaults.yml";

  private ConfigLoader() {}

  /**
   * The effective configuration: {@code file} (when given) over the embedded defaults, with {@code
   * env} used for {@code ${VAR}} substitution.
   *
   * @throws ConfigException listing every problem found, including an unreadable file or a YAML
   *     syntax error (one line with file, line and column)
   */
  public static FoobarConfig load(Optional<Path> file, Map<String, String> env) {
    ObjectNode user =
        file.map(ConfigLoader::readFile).orElseGet(JsonNodeFactory.instance::objectNode);
    Path baseDir =
        file.map(f -> f.toAbsolutePath().getParent()).orElseGet(() -> Path.of("").toAbsolutePath());
    ObjectNode merged = ConfigTree.merge(resource(DEFAULTS), user);
    resource(SECTION_DEFAULTS)
        .properties()
        .forEach(
            section -> {
              String[] path = section.getKey().split("\\.");
              ObjectNode parent = merged;
              for (int i = 0; i < path.length - 1 && parent != null; i++) {
                parent = parent.get(path[i]) instanceof ObjectNode o ? o : null;
              }
              String last = path[path.length - 1];
              if (parent != null && parent.get(last) instanceof ObjectNode given) {
                parent.set(last, ConfigTree.merge((ObjectNode) section.getValue(), given));
              }
            });
    shorthandBackends(merged);
    List<String> problems = new ArrayList<>();
    Set<String> substitutionFailed = ConfigTree.substitute(merged, env, problems);
    Optional<FoobarConfig> config =
        new ConfigBinder(baseDir, substitutionFailed, problems).bind(merged, FoobarConfig.class);
    config.ifPresent(c -> check(c, problems));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config.orElseThrow();
  }

  /**
   * Listener addresses that two listeners of {@code roles}, run by one process, would both bind
   * (lb: https, http, admin; backend: listen, admin; monitor: listen). Port 0 never conflicts;
   * {@code 0.0.0.0:P} conflicts with every IPv4 address or host name on port P, {@code [::]:P} with
   * every address on port P.
   *
   * @return one line per conflict, e.g. {@code backend.admin: address 127.0.0.1:8081 is also used
   *     by backend.listen}; empty when there is none
   */
  public static List<String> listenerConflicts(FoobarConfig config, Set<Role> roles) {
    return Listeners.conflicts(config, roles);
  }

  /**
   * {@code config} as YAML that {@link #load} reads back into an equal configuration, except that
   * every {@link Secret} is printed as {@code ******}. Empty optionals are omitted.
   */
  public static String toYaml(FoobarConfig config) {
    return ConfigPrinter.toYaml(config);
  }

  /**
   * Parses a duration as the configuration writes it ({@code 250ms}, {@code 2s}, {@code 1m}, {@code
   * 1h}), for applications that read their own settings.
   *
   * @throws IllegalArgumentException whose message says what was expected and what was given
   */
  public static java.time.Duration duration(String text) {
    return ScalarBinder.parseDuration(text);
  }

  /**
   * {@code lb.backends} entries may be a bare URL, short for {@code {url: URL, weight: 1}}; a
   * mapping without {@code weight} gets 1 (list elements have no defaults file).
   */
  private static void shorthandBackends(ObjectNode merged) {
    if (!(merged.path("lb").path("backends")
        instanceof com.fasterxml.jackson.databind.node.ArrayNode list)) {
      return;
    }
    for (int i = 0; i < list.size(); i++) {
      JsonNode entry = list.get(i);
      if (entry.isValueNode() && !entry.isNull()) {
        ObjectNode full = JsonNodeFactory.instance.objectNode();
        full.set("url", entry);
        full.put("weight", "1");
        list.set(i, full);
      } else if (entry instanceof ObjectNode object && !object.has("weight")) {
        object.put("weight", "1");
      }
    }
  }

  /** Checks that involve more than one key. */
  private static void check(FoobarConfig config, List<String> problems) {
    StaticConfig.MemoryCacheConfig cache = config.backend().staticFiles().memoryCache();
    if (cache.maxFileSize().bytes() > cache.maxBytes().bytes()) {
      problems.add(
          "backend.static.memory-cache.max-file-size: must not exceed max-bytes "
              + cache.maxBytes()
              + ", got '"
              + cache.maxFileSize()
              + "'");
    }
  }

  private static ObjectNode readFile(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(absolute);
    } catch (NoSuchFileException e) {
      throw problem("config file '" + absolute + "' does not exist");
    } catch (AccessDeniedException e) {
      throw problem("config file '" + absolute + "' is not readable: permission denied");
    } catch (IOException e) {
      String reason = Files.isDirectory(absolute) ? "is a directory" : "cannot be read";
      throw problem("config file '" + absolute + "' " + reason + " (" + e.getMessage() + ")");
    }
    Optional<JsonNode> tree;
    try {
      tree =
          YamlTree.read(
              new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.UTF_8));
    } catch (YamlTree.SyntaxError e) {
      throw problem(
          absolute + ":" + e.line + ":" + e.column + ": YAML syntax error: " + e.getMessage());
    }
    if (tree.isEmpty() || tree.get().isNull()) {
      return JsonNodeFactory.instance.objectNode();
    }
    if (!(tree.get() instanceof ObjectNode object)) {
      throw problem(
          absolute + ": expected a mapping of sections (site, lb, backend, ...) at the top");
    }
    return object;
  }

  private static ObjectNode resource(String name) {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the classpath");
      }
      return (ObjectNode)
          YamlTree.read(new InputStreamReader(in, StandardCharsets.UTF_8)).orElseThrow();
    } catch (IOException | YamlTree.SyntaxError e) {
      throw new IllegalStateException("the embedded " + name + " is broken", e);
    }
  }

  private static ConfigException problem(String line) {
    return new ConfigException(List.of(line));
  }
}
