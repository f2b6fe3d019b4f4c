package com.foobar.app;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaticFilesTest {

  private static final Instant MTIME = Instant.parse("2024-03-01T12:00:00Z");

  @TempDir Path root;
  private StaticServer server;

  @BeforeEach
  void site() throws IOException {
    write("index.html", "<h1>home</h1>");
    write("hello.txt", "hello, world\n");
    write("assets/app.css", "body{}");
    write("docs/guide/index.html", "<p>guide</p>");
    Files.createDirectories(root.resolve("empty"));
    write("data.unknownext", "???");
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void get_file_returnsBodyTypeAndValidators() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/hello.txt");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(response.body(), UTF_8)).isEqualTo("hello, world\n");
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
    assertThat(response.headers().firstValue("Content-Length")).hasValue("13");
    assertThat(response.headers().firstValue("ETag"))
        .hasValue("\"" + Long.toHexString(MTIME.getEpochSecond()) + "-d\"");
    assertThat(response.headers().firstValue("Last-Modified"))
        .hasValue("Fri, 01 Mar 2024 12:00:00 GMT");
    assertThat(response.headers().firstValue("Accept-Ranges")).hasValue("bytes");
    assertThat(response.headers().firstValue("Vary")).hasValue("Accept-Encoding");
  }

  @Test
  void get_sameFileTwice_secondIsCacheHit() {
    server = StaticServer.start(root);
    server.get("/hello.txt");
    HttpResponse<byte[]> second = server.get("/hello.txt");

    assertThat(new String(second.body(), UTF_8)).isEqualTo("hello, world\n");
    assertThat(server.meter("foobar.static.cache.hits")).isEqualTo(1.0);
    assertThat(server.meter("foobar.static.cache.entries")).isEqualTo(1.0);
    assertThat(server.meter("foobar.static.cache.bytes")).isGreaterThan(13.0);
  }

  @Test
  void largeCachedFile_servedIntactToConcurrentClients() throws Exception {
    byte[] big = new byte[300 * 1024];
    new java.util.Random(3).nextBytes(big);
    java.nio.file.Files.write(root.resolve("big.bin"), big);
    server = StaticServer.start(root);
    server.get("/big.bin");
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<HttpResponse<byte[]>>> responses =
          new java.util.ArrayList<>();
      for (int i = 0; i < 32; i++) {
        responses.add(pool.submit(() -> server.get("/big.bin")));
      }
      for (var f : responses) {
        HttpResponse<byte[]> r = f.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(big);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(server.meter("foobar.static.cache.hits")).isGreaterThanOrEqualTo(32.0);
  }

  @Test
  void head_returnsHeadersWithoutBody() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.send("HEAD", "/hello.txt");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEmpty();
    assertThat(response.headers().firstValue("Content-Length")).hasValue("13");
    assertThat(response.headers().firstValue("ETag")).isPresent();
  }

  @Test
  void unknownExtension_isOctetStream() {
    server = StaticServer.start(root);
    assertThat(server.get("/data.unknownext").headers().firstValue("Content-Type"))
        .hasValue("application/octet-stream");
  }

  @Test
  void options_returns204WithAllow() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.send("OPTIONS", "/hello.txt");

    assertThat(response.statusCode()).isEqualTo(204);
    assertThat(response.headers().firstValue("Allow")).hasValue("GET, HEAD, OPTIONS");
  }

  @Test
  void post_returns405WithAllow() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.send("POST", "/hello.txt");

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.headers().firstValue("Allow")).hasValue("GET, HEAD, OPTIONS");
    assertThat(response.body()).isEmpty();
  }

  @Test
  void directoryWithSlash_servesIndexFile() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/docs/guide/");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(response.body(), UTF_8)).isEqualTo("<p>guide</p>");
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
  }

  @Test
  void root_servesIndexFile() {
    server = StaticServer.start(root);
    assertThat(new String(server.get("/").body(), UTF_8)).isEqualTo("<h1>home</h1>");
  }

  @Test
  void directoryWithoutSlash_redirects() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/docs/guide?x=1");

    assertThat(response.statusCode()).isEqualTo(301);
    assertThat(response.headers().firstValue("Location")).hasValue("/docs/guide/?x=1");
  }

  @Test
  void doubleSlashDirectory_redirectStaysOnSite() {
    server = StaticServer.start(root);
    String response = server.raw("//docs");

    assertThat(StaticServer.status(response)).isEqualTo(301);
    assertThat(response).contains("Location: /docs/\r\n");
  }

  @Test
  void directoryWithoutIndex_listingOff_returns404() {
    server = StaticServer.start(root);
    assertThat(server.get("/empty/").statusCode()).isEqualTo(404);
  }

  @Test
  void directoryWithoutIndex_listingOn_listsEscapedNames() throws IOException {
    write("empty/a<b>.txt", "x");
    Files.createDirectories(root.resolve("empty/sub dir"));
    server = StaticServer.start(TestConfigs.withDirectoryListing(), root);
    HttpResponse<byte[]> response = server.get("/empty/");

    String html = new String(response.body(), UTF_8);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(html).contains(">a&lt;b&gt;.txt</a>").doesNotContain("a<b>");
    assertThat(html).contains("href=\"sub%20dir/\"");
  }

  @Test
  void missingFile_returns404() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/nope.txt");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).isEmpty();
  }

  @Test
  void missingFile_with404Page_servesItWithStatus404() throws IOException {
    write("404.html", "<h1>not here</h1>");
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/nope.txt");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(new String(response.body(), UTF_8)).isEqualTo("<h1>not here</h1>");
    assertThat(response.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
  }

  @Test
  void fileWithTrailingSlash_returns404() {
    server = StaticServer.start(root);
    assertThat(server.get("/hello.txt/").statusCode()).isEqualTo(404);
  }

  @Test
  void cacheControl_firstMatchingGlobWins() {
    server = StaticServer.start(root);

    assertThat(server.get("/assets/app.css").headers().firstValue("Cache-Control"))
        .hasValue("public, max-age=31536000, immutable");
    assertThat(server.get("/docs/guide/index.html").headers().firstValue("Cache-Control"))
        .hasValue("no-cache");
    assertThat(server.get("/hello.txt").headers().firstValue("Cache-Control"))
        .hasValue("public, max-age=3600");
  }

  @Test
  void handler_rootMissing_failsNamingTheKey() {
    Path missing = root.resolve("missing");
    assertThatThrownBy(
            () ->
                StaticFiles.handler(
                    TestConfigs.defaults(), missing, new FakeTicker(), new SimpleMeterRegistry()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("backend.static.root")
        .hasMessageContaining(missing.toString());
  }

  private void write(String name, String content) throws IOException {
    Path file = root.resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
    Files.setLastModifiedTime(file, FileTime.from(MTIME));
  }
}
