package com.foobar.app;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.DataSize;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompressionTest {

  private static final String TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(100);

  @TempDir Path root;
  private StaticServer server;

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void precompressedGz_servedWhenAccepted() throws IOException {
    Files.writeString(root.resolve("app.js"), "var x = 1;");
    Files.write(root.resolve("app.js.gz"), Gzip.compress("var x = 1; // from .gz".getBytes(UTF_8)));
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/app.js", "Accept-Encoding", "gzip, deflate");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/javascript; charset=utf-8");
    assertThat(response.headers().firstValue("Vary")).hasValue("Accept-Encoding");
    assertThat(gunzip(response.body())).isEqualTo("var x = 1; // from .gz");
  }

  @Test
  void precompressedBr_preferredOverGz() throws IOException {
    Files.writeString(root.resolve("app.css"), "a{}");
    Files.write(root.resolve("app.css.br"), new byte[] {1, 2, 3});
    Files.write(root.resolve("app.css.gz"), Gzip.compress("a{}".getBytes(UTF_8)));
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/app.css", "Accept-Encoding", "gzip, br");

    assertThat(response.headers().firstValue("Content-Encoding")).hasValue("br");
    assertThat(response.body()).containsExactly(1, 2, 3);
  }

  @Test
  void precompressedBr_refusedWithQZero_fallsBackToGz() throws IOException {
    Files.writeString(root.resolve("app.css"), "a{}");
    Files.write(root.resolve("app.css.br"), new byte[] {1, 2, 3});
    Files.write(root.resolve("app.css.gz"), Gzip.compress("a{}".getBytes(UTF_8)));
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/app.css", "Accept-Encoding", "br;q=0, gzip");

    assertThat(response.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(gunzip(response.body())).isEqualTo("a{}");
  }

  @Test
  void precompressed_notAccepted_servesIdentityWithVary() throws IOException {
    Files.writeString(root.resolve("app.js"), "var x = 1;");
    Files.write(root.resolve("app.js.gz"), Gzip.compress("var x = 1;".getBytes(UTF_8)));
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/app.js");

    assertThat(response.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(response.headers().firstValue("Vary")).hasValue("Accept-Encoding");
    assertThat(new String(response.body(), UTF_8)).isEqualTo("var x = 1;");
  }

  @Test
  void precompressed_disabled_ignoresSiblings() throws IOException {
    Files.writeString(root.resolve("tiny.js"), "1");
    Files.write(root.resolve("tiny.js.gz"), Gzip.compress("1".getBytes(UTF_8)));
    server = StaticServer.start(TestConfigs.withoutPrecompressed(), root);
    HttpResponse<byte[]> response = server.get("/tiny.js", "Accept-Encoding", "gzip");

    assertThat(response.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(new String(response.body(), UTF_8)).isEqualTo("1");
  }

  @Test
  void onTheFlyGzip_forLargeText() throws IOException {
    Files.writeString(root.resolve("big.txt"), TEXT);
    server = StaticServer.start(root);
    HttpResponse<byte[]> gzipped = server.get("/big.txt", "Accept-Encoding", "gzip");
    HttpResponse<byte[]> again = server.get("/big.txt", "Accept-Encoding", "gzip");

    assertThat(gzipped.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(gzipped.body().length).isLessThan(TEXT.length() / 5);
    assertThat(gunzip(gzipped.body())).isEqualTo(TEXT);
    assertThat(gzipped.headers().firstValue("ETag"))
        .isNotEqualTo(server.get("/big.txt").headers().firstValue("ETag"));
    assertThat(again.body()).isEqualTo(gzipped.body());
    assertThat(server.meter("foobar.static.cache.hits")).isEqualTo(2.0);
  }

  @Test
  void onTheFlyGzip_smallText_notCompressed() throws IOException {
    Files.writeString(root.resolve("small.txt"), "short");
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/small.txt", "Accept-Encoding", "gzip");

    assertThat(response.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(response.headers().firstValue("Vary")).hasValue("Accept-Encoding");
  }

  @Test
  void onTheFlyGzip_binaryType_notCompressedAndNoVary() throws IOException {
    Files.write(root.resolve("pic.png"), new byte[4096]);
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/pic.png", "Accept-Encoding", "gzip");

    assertThat(response.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(response.headers().firstValue("Vary")).isEmpty();
    assertThat(response.body()).hasSize(4096);
  }

  @Test
  void gzip_withRange_servesIdentityRange() throws IOException {
    Files.writeString(root.resolve("big.txt"), TEXT);
    server = StaticServer.start(root);
    HttpResponse<byte[]> response =
        server.get("/big.txt", "Accept-Encoding", "gzip", "Range", "bytes=4-8");

    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(response.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(new String(response.body(), UTF_8)).isEqualTo("quick");
  }

  @Test
  void ifNoneMatch_gzipEtag_returns304ForGzipRequest() throws IOException {
    Files.writeString(root.resolve("big.txt"), TEXT);
    server = StaticServer.start(root);
    String etag =
        server
            .get("/big.txt", "Accept-Encoding", "gzip")
            .headers()
            .firstValue("ETag")
            .orElseThrow();

    assertThat(
            server.get("/big.txt", "Accept-Encoding", "gzip", "If-None-Match", etag).statusCode())
        .isEqualTo(304);
  }

  @Test
  void largeFile_precompressedSibling_servedZeroCopy() throws IOException {
    String big = TEXT.repeat(40); // 180 KB
    Files.writeString(root.resolve("huge.txt"), big);
    Files.write(root.resolve("huge.txt.gz"), Gzip.compress(big.getBytes(UTF_8)));
    server =
        StaticServer.start(
            TestConfigs.memoryCache(
                DataSize.parse("64MiB"), DataSize.parse("64KiB"), Duration.ofSeconds(1)),
            root);
    HttpResponse<byte[]> response = server.get("/huge.txt", "Accept-Encoding", "gzip");

    assertThat(response.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(gunzip(response.body())).isEqualTo(big);
  }

  private static String gunzip(byte[] body) {
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      return new String(in.readAllBytes(), UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
