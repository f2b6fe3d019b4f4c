package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin as a user would write one: a class compiled against {@code foobar.jar} alone, packed
 * with its {@code META-INF/services} entry into a jar dropped into {@code plugins/}.
 */
class PluginJarIT {
  @TempDir Path dir;

  private static final String SOURCE =
      """
      package demo;

      import com.foobar.app.spi.App;
      import com.foobar.app.spi.AppContext;
      import com.foobar.app.spi.Reply;
      import java.util.Map;

      public final class Hello implements App {
        public String name() { return "hello"; }

        public void start(AppContext app) {
          String greeting = app.config().path("greeting").asText("hello");
          app.route("GET", "/{name}",
              req -> Reply.ok(Map.of("message", greeting + ", " + req.param("name"))));
        }
      }
      """;

  private Path buildPlugin() throws Exception {
    Path src = Files.createDirectories(dir.resolve("src/demo"));
    Files.writeString(src.resolve("Hello.java"), SOURCE);
    Path classes = Files.createDirectories(dir.resolve("classes"));
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    int rc =
        ToolProvider.getSystemJavaCompiler()
            .run(
                null,
                null,
                errors,
                "-cp",
                JarProcess.JAR.toAbsolutePath().toString(),
                "-d",
                classes.toString(),
                src.resolve("Hello.java").toString());
    assertThat(rc).as("javac: %s", errors).isZero();
    Path jar = Files.createDirectories(dir.resolve("plugins")).resolve("hello.jar");
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream jarOut = new JarOutputStream(out)) {
      jarOut.putNextEntry(new JarEntry("demo/Hello.class"));
      jarOut.write(Files.readAllBytes(classes.resolve("demo/Hello.class")));
      jarOut.putNextEntry(new JarEntry("META-INF/services/com.foobar.app.spi.App"));
      jarOut.write("demo.Hello\n".getBytes(StandardCharsets.UTF_8));
    }
    return jar;
  }

  @Test
  void pluginJar_inPlugins_addsRoutes_underItsPrefix() throws Exception {
    buildPlugin();
    int port = JarProcess.freePort();
    int admin = JarProcess.freePort();
    Path config =
        JarProcess.config(
            dir,
            """
            backend:
              listen: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              apps:
                hello: {prefix: /hello, config: {greeting: hi}}
            """
                .formatted(port, admin));
    try (JarProcess jar = JarProcess.start(dir, "--role=backend", "--config=" + config)) {
      jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(30));
      assertThat(jar.stderr()).containsPattern("apps\\s+links at /, hello at /hello");
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> hello =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello/bob")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(hello.statusCode()).isEqualTo(200);
      assertThat(hello.body()).isEqualTo("{\"message\":\"hi, bob\"}");
      HttpResponse<String> unknown =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hello/bob/x"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(unknown.body()).contains("\"error\":\"not_found\"");
      assertThat(jar.terminate()).isZero();
    }
  }

  @Test
  void withoutThePluginJar_theAppIsUnknown_exit2() throws Exception {
    Path config = JarProcess.config(dir, "backend: {apps: {hello: {prefix: /hello}}}\n");
    JarProcess run = JarProcess.run(dir, "--role=backend", "--config=" + config);
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.stderr())
        .contains("config error: backend.apps.hello: no application has this name");
  }
}
