package com.foobar.app;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundledSiteTest {

  private static final List<String> FILES =
      List.of(
          "index.html",
          "404.html",
          "robots.txt",
          "favicon.svg",
          "assets/site.css",
          "assets/site.js",
          "links.html",
          "assets/links.js");

  @Test
  void extract_fromClassesDirectory_copiesSite() throws IOException {
    Path site = BundledSite.extract();

    for (String file : FILES) {
      assertThat(site.resolve(file)).as(file).isRegularFile();
    }
    assertThat(Files.readString(site.resolve("index.html"))).contains("</html>");
  }

  @Test
  void bundledSite_isSmallAndSelfContained() throws IOException {
    Path site = BundledSite.extract();
    long total = 0;
    for (String file : FILES) {
      String text = Files.readString(site.resolve(file));
      // no external resources (an XML namespace name is not a fetch)
      assertThat(text)
          .as(file)
          .doesNotContainPattern("(src|href)=\"(https?:)?//")
          .doesNotContainPattern("url\\(\\s*['\"]?(https?:)?//")
          .doesNotContain("@import");
      total += text.length();
    }
    assertThat(total).isLessThan(30 * 1024);
    assertThat(Files.readString(site.resolve("index.html")))
        .contains("<html lang=\"en\">")
        .contains("load balancer");
  }

  @Test
  void extract_fromJar_copiesSite(@TempDir Path tmp) throws IOException {
    Path jar = tmp.resolve("site.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry("static/"));
      out.putNextEntry(new JarEntry("static/index.html"));
      out.write("<p>from jar</p>".repeat(50).getBytes(UTF_8));
      out.putNextEntry(new JarEntry("static/img/"));
      out.putNextEntry(new JarEntry("static/img/dot.png"));
      out.write(new byte[] {1, 2, 3});
    }
    URL marker = new URL("jar:" + jar.toUri() + "!/static/index.html");

    Path site = BundledSite.extract(marker);

    assertThat(Files.readString(site.resolve("index.html"))).startsWith("<p>from jar</p>");
    assertThat(Files.readAllBytes(site.resolve("img/dot.png"))).containsExactly(1, 2, 3);
    assertThat(site.resolve("index.html.gz")).doesNotExist();
  }

  @Test
  void bundledSite_servedGzippedWhenAccepted_and404Page() throws IOException {
    try (StaticServer server = StaticServer.start(BundledSite.extract())) {
      HttpResponse<byte[]> home = server.get("/", "Accept-Encoding", "gzip");
      assertThat(home.statusCode()).isEqualTo(200);
      assertThat(home.headers().firstValue("Content-Encoding")).hasValue("gzip");
      assertThat(gunzip(home.body())).contains("One jar runs your whole site.");

      HttpResponse<byte[]> missing = server.get("/no/such/page");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(new String(missing.body(), UTF_8)).contains("Page not found");

      assertThat(server.get("/assets/site.css").headers().firstValue("Cache-Control"))
          .hasValue("public, max-age=31536000, immutable");
    }
  }

  private static String gunzip(byte[] bytes) throws IOException {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }
}
