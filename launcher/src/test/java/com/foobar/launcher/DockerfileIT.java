package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's {@code Dockerfile} without a Docker engine: each role's target is read (the
 * stage chain from {@code FROM}, as Docker resolves it), its settings are checked, and its exact
 * {@code ENTRYPOINT} + {@code CMD} are run against {@code target/foobar.jar} (the image's jar path
 * and {@code /etc/foobar/foobar.yml} replaced by the built jar and a config with free ports; the
 * working directory stands for the image's {@code WORKDIR}) until the role is ready.
 */
class DockerfileIT {
  /** The repository root: the jar is built to {@code target/foobar.jar} there. */
  private static final Path REPO =
      JarProcess.JAR.toAbsolutePath().normalize().getParent().getParent();

  private static final String IMAGE_JAR = "/opt/foobar/foobar.jar";
  private static final String IMAGE_CONFIG = "/etc/foobar/foobar.yml";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** The settings of one target, as {@code docker build --target} would give its image. */
  record Image(
      List<String> entrypoint,
      List<String> cmd,
      String user,
      String workdir,
      List<String> volumes,
      List<String> exposed,
      List<String> healthcheck) {
    List<String> args() {
      List<String> all = new ArrayList<>(entrypoint);
      all.addAll(cmd);
      return all;
    }
  }

  @Test
  void eachRoleTarget_isExecForm_nonRoot_withDataVolume_portsAndHealthcheckOnReady()
      throws Exception {
    Map<String, Image> images = images();
    Map<String, List<String>> ports =
        Map.of(
            "lb",
            List.of("8443", "8080"),
            "backend",
            List.of("8081"),
            "all",
            List.of("8443", "8080"));
    Map<String, Integer> admin = Map.of("lb", 9101, "backend", 9102, "all", 9101);
    for (String role : List.of("lb", "backend", "all")) {
      assertThat(images).as("targets").containsKey(role);
      Image image = images.get(role);
      assertThat(image.entrypoint()).as(role).startsWith("java").endsWith("-jar", IMAGE_JAR);
      assertThat(image.cmd())
          .as(role)
          .containsExactly("--role=" + role, "--config=" + IMAGE_CONFIG);
      assertThat(image.user()).as(role + " user").isNotBlank().isNotIn("root", "0");
      assertThat(image.volumes()).as(role).containsExactly(image.workdir() + "/data");
      assertThat(image.exposed()).as(role).containsExactlyInAnyOrderElementsOf(ports.get(role));
      assertThat(image.healthcheck())
          .as(role)
          .endsWith("http://127.0.0.1:" + admin.get(role) + "/ready");
    }
    assertThat(Files.readString(REPO.resolve("Dockerfile")))
        .as("the default target (the last stage) is role all")
        .containsPattern("(?s).*FROM runtime AS all\\n(?!.*\\nFROM ).*");
  }

  @Test
  void imageConfig_isValidForEveryRole() throws Exception {
    Path config = REPO.resolve("docker/foobar.yml");
    for (String role : List.of("lb", "backend", "all")) {
      JarProcess check =
          JarProcess.run(dir, "check-config", "--config=" + config, "--role=" + role);
      assertThat(check.exitCode()).as(role + ": " + check.stdout() + check.stderr()).isZero();
    }
  }

  @Test
  void roleTargets_runTheirEntrypointAndCmd_andBecomeReady() throws Exception {
    Map<String, Image> images = images();
    int backendPort = JarProcess.freePort();
    int backendAdmin = JarProcess.freePort();
    Path backendDir =
        site(
            "backend",
            """
            backend:
              listen: 127.0.0.1:%d
              admin: 127.0.0.1:%d
            """
                .formatted(backendPort, backendAdmin));
    int lbAdmin = JarProcess.freePort();
    Path lbDir =
        site(
            "lb",
            """
            lb:
              https: 127.0.0.1:%d
              http: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              backends: [http://127.0.0.1:%d]
            """
                .formatted(JarProcess.freePort(), JarProcess.freePort(), lbAdmin, backendPort));
    try (JarProcess backend = run(images.get("backend"), backendDir);
        JarProcess lb = run(images.get("lb"), lbDir)) {
      backend.awaitReady("http://127.0.0.1:" + backendAdmin + "/ready", Duration.ofSeconds(60));
      lb.awaitReady("http://127.0.0.1:" + lbAdmin + "/ready", Duration.ofSeconds(60));
      JarProcess.awaitBackendsUp("http://127.0.0.1:" + lbAdmin + "/stats?format=json", 1);
      assertThat(backend.stderr()).contains("backend");
      assertThat(backendDir.resolve("data/foobar.mv.db")).as("the data volume").exists();
      assertThat(lb.terminate()).isZero();
      assertThat(backend.terminate()).isZero();
    }

    int allAdmin = JarProcess.freePort();
    int backendAdmins = freePortPair();
    Path allDir =
        site(
            "all",
            """
            lb:
              https: 127.0.0.1:%d
              http: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              backends: [https://127.0.0.1:%d, https://127.0.0.1:%d]
            backend:
              admin: 127.0.0.1:%d
            """
                .formatted(
                    JarProcess.freePort(),
                    JarProcess.freePort(),
                    allAdmin,
                    JarProcess.freePort(),
                    JarProcess.freePort(),
                    backendAdmins));
    try (JarProcess all = run(images.get("all"), allDir)) {
      all.awaitReady("http://127.0.0.1:" + allAdmin + "/ready", Duration.ofSeconds(60));
      JarProcess.awaitBackendsUp("http://127.0.0.1:" + allAdmin + "/stats?format=json", 2);
      assertThat(allDir.resolve("data/certs/ca.pem")).as("the internal CA in the volume").exists();
      assertThat(all.terminate()).isZero();
    }
  }

  /** A working directory for one container with its config file; returns the directory. */
  private Path site(String role, String yaml) throws IOException {
    Path workdir = Files.createDirectories(dir.resolve(role));
    Files.writeString(workdir.resolve("foobar.yml"), yaml);
    return workdir;
  }

  /** Runs the image's arguments in {@code workdir}, with this JVM, this jar and its config. */
  private static JarProcess run(Image image, Path workdir) throws IOException {
    List<String> command = new ArrayList<>();
    for (String arg : image.args()) {
      if (command.isEmpty() && arg.equals("java")) {
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      } else if (arg.equals(IMAGE_JAR)) {
        command.add(JarProcess.JAR.toAbsolutePath().toString());
      } else if (arg.equals("--config=" + IMAGE_CONFIG)) {
        command.add("--config=" + workdir.resolve("foobar.yml"));
      } else {
        command.add(arg);
      }
    }
    assertThat(command).as("the image runs java").isNotEmpty();
    return JarProcess.exec(workdir, command);
  }

  /** Two consecutive TCP ports that were free a moment ago; the first. */
  private static int freePortPair() throws IOException {
    for (int i = 0; i < 50; i++) {
      int p = JarProcess.freePort();
      try (ServerSocket next = new ServerSocket()) {
        next.bind(new InetSocketAddress("127.0.0.1", p + 1));
        return p;
      } catch (IOException e) {
        // taken: try another
        continue;
      }
    }
    throw new IOException("no two consecutive free ports");
  }

  /**
   * The settings of every named stage, each resolved over the stages it is built {@code FROM}: as
   * in Docker, an {@code ENTRYPOINT} resets the inherited {@code CMD}; {@code EXPOSE} and {@code
   * VOLUME} add up.
   */
  static Map<String, Image> images() throws IOException {
    Map<String, Image> stages = new LinkedHashMap<>();
    Image current = null;
    String name = null;
    for (String line : instructions(Files.readString(REPO.resolve("Dockerfile")))) {
      String[] parts = line.split("\\s+", 2);
      String keyword = parts[0].toUpperCase();
      String rest = parts.length > 1 ? parts[1].trim() : "";
      if (keyword.equals("FROM")) {
        if (name != null) {
          stages.put(name, current);
        }
        String[] from = rest.split("\\s+");
        assertThat(from).as(line).hasSize(3);
        assertThat(from[1]).as(line).isEqualToIgnoringCase("AS");
        name = from[2];
        current =
            Optional.ofNullable(stages.get(from[0]))
                .orElse(new Image(List.of(), List.of(), "", "/", List.of(), List.of(), List.of()));
        continue;
      }
      assertThat(current).as("an instruction before FROM: " + line).isNotNull();
      current =
          switch (keyword) {
            case "ENTRYPOINT" -> with(current, exec(line, rest), List.of(), null, null, null);
            case "CMD" -> with(current, null, exec(line, rest), null, null, null);
            case "USER" -> with(current, null, null, rest, null, null);
            case "WORKDIR" -> with(current, null, null, null, rest, null);
            case "VOLUME" -> {
              List<String> volumes = new ArrayList<>(current.volumes());
              volumes.addAll(exec(line, rest));
              yield new Image(
                  current.entrypoint(),
                  current.cmd(),
                  current.user(),
                  current.workdir(),
                  volumes,
                  current.exposed(),
                  current.healthcheck());
            }
            case "EXPOSE" -> {
              List<String> exposed = new ArrayList<>(current.exposed());
              exposed.addAll(List.of(rest.split("\\s+")));
              yield new Image(
                  current.entrypoint(),
                  current.cmd(),
                  current.user(),
                  current.workdir(),
                  current.volumes(),
                  exposed,
                  current.healthcheck());
            }
            case "HEALTHCHECK" -> {
              int cmd = rest.indexOf("CMD ");
              assertThat(cmd).as(line).isNotNegative();
              yield with(current, null, null, null, null, exec(line, rest.substring(cmd + 4)));
            }
            default -> current;
          };
    }
    if (name != null) {
      stages.put(name, current);
    }
    return stages;
  }

  private static Image with(
      Image i,
      List<String> entrypoint,
      List<String> cmd,
      String user,
      String workdir,
      List<String> healthcheck) {
    return new Image(
        entrypoint != null ? entrypoint : i.entrypoint(),
        cmd != null ? cmd : i.cmd(),
        user != null ? user : i.user(),
        workdir != null ? workdir : i.workdir(),
        i.volumes(),
        i.exposed(),
        healthcheck != null ? healthcheck : i.healthcheck());
  }

  /** The JSON array of an exec-form instruction; the shell form fails the test. */
  private static List<String> exec(String line, String json) throws IOException {
    assertThat(json.trim()).as("exec form (a JSON array): " + line).startsWith("[");
    return JSON.readValue(json, new TypeReference<List<String>>() {});
  }

  /** The instructions of a Dockerfile: comments dropped, continued lines joined. */
  static List<String> instructions(String dockerfile) {
    List<String> out = new ArrayList<>();
    StringBuilder pending = new StringBuilder();
    for (String raw : dockerfile.split("\\n")) {
      String line = raw.strip();
      if (line.startsWith("#") || (line.isEmpty() && pending.isEmpty())) {
        continue;
      }
      if (line.endsWith("\\")) {
        pending.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      pending.append(line);
      out.add(pending.toString().strip());
      pending.setLength(0);
    }
    assertThat(pending.toString()).as("a continued last line").isEmpty();
    return out;
  }
}
