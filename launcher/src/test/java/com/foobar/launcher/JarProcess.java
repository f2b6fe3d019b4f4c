package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The real {@code target/foobar.jar} started as a separate JVM, with its output captured. */
final class JarProcess implements AutoCloseable {
  static final Path JAR = Path.of(System.getProperty("foobar.jar", "../target/foobar.jar"));

  private final Process process;
  private final StringBuffer out = new StringBuffer();
  private final StringBuffer err = new StringBuffer();

  private final List<Thread> pumps = new ArrayList<>();

  private JarProcess(Process process) {
    this.process = process;
    pumps.add(pump(process.getInputStream(), out));
    pumps.add(pump(process.getErrorStream(), err));
  }

  /** Waits (bounded) until the output of the ended process has been read to its end. */
  private void awaitOutput() throws InterruptedException {
    for (Thread t : pumps) {
      t.join(5_000);
    }
  }

  /** Starts {@code java -jar foobar.jar args...} in {@code workDir}. */
  static JarProcess start(Path workDir, String... args) throws IOException {
    return start(workDir, Map.of(), args);
  }

  /** Starts {@code java -jar foobar.jar args...} in {@code workDir} with {@code env} added. */
  static JarProcess start(Path workDir, Map<String, String> env, String... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-jar");
    command.add(JAR.toAbsolutePath().toString());
    command.addAll(List.of(args));
    return exec(workDir, env, command);
  }

  /** Starts {@code command}, which runs the jar with its own JVM options, in {@code workDir}. */
  static JarProcess exec(Path workDir, List<String> command) throws IOException {
    return exec(workDir, Map.of(), command);
  }

  private static JarProcess exec(Path workDir, Map<String, String> env, List<String> command)
      throws IOException {
    assertThat(JAR).as("the fat jar (mvn package builds it)").exists();
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
    pb.environment().putAll(env);
    return new JarProcess(pb.start());
  }

  /** Runs the jar to completion (bounded) and returns it, for exit code and output checks. */
  static JarProcess run(Path workDir, String... args) throws Exception {
    JarProcess p = start(workDir, args);
    assertThat(p.process.waitFor(30, TimeUnit.SECONDS)).as("jar exits within 30 s").isTrue();
    p.awaitOutput();
    return p;
  }

  private static Thread pump(InputStream in, StringBuffer into) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[8192];
              try {
                int n;
                while ((n = in.read(buf)) > 0) {
                  into.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
              } catch (IOException e) {
                // the process ended; what was read is kept
                into.append("");
              }
            });
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * Polls the lb's {@code /stats?format=json} until {@code count} backends are {@code up} (the lb
   * is ready before its first health checks passed), for at most 20 s.
   */
  static void awaitBackendsUp(String statsUrl, int count) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    String body = "";
    while (System.nanoTime() < deadline) {
      body =
          client
              .send(
                  HttpRequest.newBuilder(URI.create(statsUrl)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      if (body.split("\"state\":\"up\"", -1).length - 1 >= count) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
    throw new AssertionError(count + " backends not up within 20 s: " + body);
  }

  /** Polls {@code url} until it answers 200, for at most {@code timeout}. */
  void awaitReady(String url, Duration timeout) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("jar exited " + process.exitValue() + "\n" + err + "\n" + out);
      }
      try {
        HttpResponse<String> r =
            client.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(1)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
        Thread.onSpinWait();
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
    throw new AssertionError("not ready within " + timeout + "\n" + err + "\n" + out);
  }

  /** Sends SIGTERM and waits (bounded) for the exit code. */
  int terminate() throws InterruptedException {
    process.destroy();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exits within 30 s of SIGTERM").isTrue();
    awaitOutput();
    return process.exitValue();
  }

  long pid() {
    return process.pid();
  }

  int exitCode() {
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String stdout() {
    return out.toString();
  }

  String stderr() {
    return err.toString();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }

  /** A TCP port that was free a moment ago on 127.0.0.1. */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code yaml} to {@code dir/foobar.yml} and returns its path. */
  static Path config(Path dir, String yaml) throws IOException {
    Path file = dir.resolve("foobar.yml");
    Files.writeString(file, yaml);
    return file;
  }
}
