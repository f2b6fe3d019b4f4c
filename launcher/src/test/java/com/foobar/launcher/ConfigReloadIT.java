package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running {@code --role=lb} jar picks up an edited config file on SIGHUP and by its file watch,
 * and refuses an invalid one, serving on with the old configuration.
 */
class ConfigReloadIT {
  @TempDir Path dir;
  private HttpServer a;
  private HttpServer b;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @AfterEach
  void stopBackends() {
    for (HttpServer s : new HttpServer[] {a, b}) {
      if (s != null) {
        s.stop(0);
      }
    }
  }

  private static HttpServer backend(String name) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    s.createContext(
        "/",
        x -> {
          byte[] body = name.getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(200, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    s.start();
    return s;
  }

  private static String url(HttpServer s) {
    return "http://127.0.0.1:" + s.getAddress().getPort();
  }

  @Test
  void sighupAndFileWatch_applyAnEditedConfig_anInvalidOneIsRejected() throws Exception {
    a = backend("a");
    b = backend("b");
    int http = JarProcess.freePort();
    int admin = JarProcess.freePort();
    String yaml =
        """
        lb:
          https: 127.0.0.1:%d
          http: 127.0.0.1:%d
          redirect-http: false
          admin: 127.0.0.1:%d
          balance: %s
          backends: [%s]
        """;
    int https = JarProcess.freePort();
    String toA = yaml.formatted(https, http, admin, "p2c", url(a));
    String toB = yaml.formatted(https, http, admin, "p2c", url(b));
    // equal sizes, so that with the modification time kept only SIGHUP can notice the change
    int width = Math.max(toA.length(), toB.length());
    toA = toA + "#" + " ".repeat(width - toA.length());
    toB = toB + "#" + " ".repeat(width - toB.length());
    Path config = JarProcess.config(dir, toA);
    String proxied = "http://127.0.0.1:" + http + "/";

    try (JarProcess jar = JarProcess.start(dir, "--role=lb", "--config=" + config)) {
      jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(30));
      assertThat(body(proxied)).isEqualTo("a");

      // (a) SIGHUP
      replaceKeepingTime(config, toB);
      Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(jar.pid())).start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      await(() -> body(proxied).equals("b"), "backend b serves after SIGHUP", jar);
      assertThat(jar.stdout())
          .containsPattern("\"event\":\"config.reloaded\"[^\\n]*\"trigger\":\"sighup\"")
          .contains("lb.backends")
          .doesNotContain("\"trigger\":\"file-watch\"");

      // (b) the file watch, no signal: a weight makes the file longer
      Files.writeString(
          config, yaml.formatted(https, http, admin, "p2c", "{url: " + url(a) + ", weight: 2}"));
      await(() -> body(proxied).equals("a"), "backend a serves after the file changed", jar);
      assertThat(jar.stdout())
          .containsPattern("\"event\":\"config.reloaded\"[^\\n]*\"trigger\":\"file-watch\"");

      // (c) an invalid file: rejected naming key and value, the old configuration serves on
      Files.writeString(config, yaml.formatted(https, http, admin, "bogus", url(b)));
      await(
          () -> jar.stdout().contains("\"event\":\"config.reload.rejected\""),
          "the invalid file rejected",
          jar);
      assertThat(jar.stdout())
          .containsPattern("\"event\":\"config.reload.rejected\"[^\\n]*lb\\.balance[^\\n]*bogus");
      for (int i = 0; i < 5; i++) {
        assertThat(body(proxied)).isEqualTo("a");
      }
      assertThat(jar.isAlive()).isTrue();
      assertThat(jar.terminate()).isZero();
    }
  }

  private String body(String url) {
    try {
      return client
          .send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "no answer: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void await(BooleanSupplier condition, String what, JarProcess jar)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline)
          .as(what + " within 20 s\n" + jar.stdout())
          .isNegative();
      TimeUnit.MILLISECONDS.sleep(100);
    }
  }

  /** Replaces {@code file} with {@code content} in one rename, keeping its modification time. */
  private static void replaceKeepingTime(Path file, String content) throws IOException {
    FileTime time = Files.getLastModifiedTime(file);
    Path staged = file.resolveSibling(file.getFileName() + ".new");
    Files.writeString(staged, content);
    Files.setLastModifiedTime(staged, time);
    Files.move(staged, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
