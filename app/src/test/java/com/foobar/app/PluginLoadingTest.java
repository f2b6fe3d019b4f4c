package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.foobar.core.ConfigException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plugin jars built at test time with javac, loaded from {@code backend.plugins}. */
class PluginLoadingTest {
  @TempDir Path dir;

  /** Compiles an App named {@code appName} in class {@code pkg.HelloApp} into {@code jar}. */
  static void pluginJar(Path jar, String pkg, String appName) throws IOException {
    Path src = Files.createTempDirectory(jar.getParent(), "src");
    Path classes = Files.createDirectories(src.resolve("classes"));
    Path file = Files.createDirectories(src.resolve(pkg)).resolve("HelloApp.java");
    Files.writeString(
        file,
        "package "
            + pkg
            + ";\n"
            + "import com.foobar.app.spi.*;\n"
            + "import java.util.Map;\n"
            + "public final class HelloApp implements App {\n"
            + "  public String name() { return \""
            + appName
            + "\"; }\n"
            + "  public void start(AppContext c) {\n"
            + "    String greeting = c.config().path(\"greeting\").asText(\"hello\");\n"
            + "    c.route(\"GET\", \"/hello/{name}\", r -> Reply.ok(Map.of(greeting, r.param(\"name\"))));\n"
            + "  }\n"
            + "}\n");
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc =
        javac.run(
            null,
            null,
            null,
            "-d",
            classes.toString(),
            "-cp",
            System.getProperty("java.class.path"),
            file.toString());
    assertThat(rc).as("javac exit code").isZero();
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream jarOut = new JarOutputStream(out)) {
      jarOut.putNextEntry(new JarEntry(pkg + "/HelloApp.class"));
      jarOut.write(Files.readAllBytes(classes.resolve(pkg).resolve("HelloApp.class")));
      jarOut.putNextEntry(new JarEntry("META-INF/services/com.foobar.app.spi.App"));
      jarOut.write((pkg + ".HelloApp\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void pluginJar_routeAnswers_underItsPrefix_withItsConfig() throws Exception {
    pluginJar(Files.createDirectories(dir.resolve("plugins")).resolve("hello.jar"), "p1", "hello");

    try (BackendServer server =
        BackendServer.start(
            dir,
            "  apps:\n"
                + "    links: ~\n"
                + "    hello: {prefix: /greet, config: {greeting: hi}}\n")) {
      HttpResponse<String> r = server.get("/greet/hello/world");

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("{\"hi\":\"world\"}");
      assertThat(server.get("/greet/hello/").statusCode()).isEqualTo(404);
      assertThat(server.get("/hello/world").body()).doesNotContain("world");
    }
  }

  @Test
  void unknownAppName_isConfigError_listingAvailableApps() throws Exception {
    pluginJar(Files.createDirectories(dir.resolve("plugins")).resolve("hello.jar"), "p1", "hello");

    assertThatThrownBy(
            () ->
                BackendServer.start(
                    dir, "  apps:\n    links: ~\n    nope: {prefix: /}\n    things: {prefix: /}\n"))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e -> {
              List<String> problems = ((ConfigException) e).problems();
              assertThat(problems).hasSize(1);
              assertThat(problems.get(0))
                  .startsWith("backend.apps.nope: ")
                  .contains("hello", "things", "links");
            });
  }

  @Test
  void sameNameInTwoJars_isConfigError_namingBothJars() throws Exception {
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    pluginJar(plugins.resolve("a.jar"), "pa", "hello");
    pluginJar(plugins.resolve("b.jar"), "pb", "hello");

    assertThatThrownBy(() -> BackendServer.start(dir, "  apps:\n    links: ~\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'hello'")
        .hasMessageContaining("a.jar")
        .hasMessageContaining("b.jar");
  }

  @Test
  void appConfigException_isConfigError_namingTheApp() {
    assertThatThrownBy(
            () ->
                BackendServer.start(
                    dir,
                    "  apps:\n    links: ~\n    things: {prefix: /, config: {refuse: true}}\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("backend.apps.things.config.refuse: must be false, got true");
  }

  @Test
  void stop_stopsEveryAppOnce() throws Exception {
    int before = TestApp.stops.get();
    BackendServer server =
        BackendServer.start(dir, "  apps:\n    links: ~\n    things: {prefix: /}\n");
    server.backend.stop();
    server.close();

    assertThat(TestApp.stops.get() - before).isEqualTo(1);
  }

  @Test
  void builtInLinks_runsWithDefaults_andMigratesItsTables() throws Exception {
    try (BackendServer server = BackendServer.start(dir, "")) {
      HttpResponse<String> created =
          server.postJson("/api/links", "{\"url\":\"https://example.com/\",\"code\":\"abc123\"}");

      assertThat(created.statusCode()).isEqualTo(201);
      assertThat(server.get("/r/abc123").statusCode()).isEqualTo(302);
    }
  }
}
