package com.foobar.app;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.DataSize;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RangeRequestsTest {

  private static final String BODY = "abcdefghijklmnopqrstuvwxyz";

  @TempDir Path root;
  private StaticServer server;

  @BeforeEach
  void site() throws IOException {
    Files.writeString(root.resolve("alpha.bin"), BODY);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void range_single_returns206WithContentRange() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/alpha.bin", "Range", "bytes=2-5");

    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(new String(response.body(), UTF_8)).isEqualTo("cdef");
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes 2-5/26");
    assertThat(response.headers().firstValue("Content-Length")).hasValue("4");
  }

  @Test
  void range_suffix_returnsLastBytes() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/alpha.bin", "Range", "bytes=-3");

    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(new String(response.body(), UTF_8)).isEqualTo("xyz");
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes 23-25/26");
  }

  @Test
  void range_openEnded_clampsToEnd() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/alpha.bin", "Range", "bytes=20-1000");

    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(new String(response.body(), UTF_8)).isEqualTo("uvwxyz");
  }

  @Test
  void range_twoRanges_returnsMultipartByteranges() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/alpha.bin", "Range", "bytes=0-1,24-");

    assertThat(response.statusCode()).isEqualTo(206);
    String contentType = response.headers().firstValue("Content-Type").orElseThrow();
    assertThat(contentType).startsWith("multipart/byteranges; boundary=");
    String boundary = contentType.substring(contentType.indexOf('=') + 1);
    String body = new String(response.body(), ISO_8859_1);
    assertThat(body)
        .isEqualTo(
            "\r\n--"
                + boundary
                + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/26"
                + "\r\n\r\nab\r\n--"
                + boundary
                + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 24-25/26"
                + "\r\n\r\nyz\r\n--"
                + boundary
                + "--\r\n");
    assertThat(response.headers().firstValue("Content-Length"))
        .hasValue(Integer.toString(response.body().length));
  }

  @Test
  void range_unsatisfiable_returns416() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response = server.get("/alpha.bin", "Range", "bytes=100-200");

    assertThat(response.statusCode()).isEqualTo(416);
    assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes */26");
    assertThat(response.body()).isEmpty();
  }

  @Test
  void range_malformed_isIgnored() {
    server = StaticServer.start(root);
    for (String header : new String[] {"bytes=5-2", "bytes=abc", "items=0-1", "bytes=1-2-3"}) {
      HttpResponse<byte[]> response = server.get("/alpha.bin", "Range", header);
      assertThat(response.statusCode()).as(header).isEqualTo(200);
      assertThat(new String(response.body(), UTF_8)).as(header).isEqualTo(BODY);
    }
  }

  @Test
  void ifRange_matchingEtag_returns206() {
    server = StaticServer.start(root);
    String etag = server.get("/alpha.bin").headers().firstValue("ETag").orElseThrow();
    HttpResponse<byte[]> response =
        server.get("/alpha.bin", "Range", "bytes=0-0", "If-Range", etag);

    assertThat(response.statusCode()).isEqualTo(206);
    assertThat(new String(response.body(), UTF_8)).isEqualTo("a");
  }

  @Test
  void ifRange_staleEtag_returnsFull200() {
    server = StaticServer.start(root);
    HttpResponse<byte[]> response =
        server.get("/alpha.bin", "Range", "bytes=0-0", "If-Range", "\"0-0\"");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new String(response.body(), UTF_8)).isEqualTo(BODY);
  }

  @Test
  void ifRange_matchingDate_returns206AndOtherDate_returns200() {
    server = StaticServer.start(root);
    String lastModified =
        server.get("/alpha.bin").headers().firstValue("Last-Modified").orElseThrow();

    assertThat(
            server.get("/alpha.bin", "Range", "bytes=0-0", "If-Range", lastModified).statusCode())
        .isEqualTo(206);
    assertThat(
            server
                .get(
                    "/alpha.bin", "Range", "bytes=0-0", "If-Range", "Mon, 01 Jan 2001 00:00:00 GMT")
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void largeFile_servedZeroCopyWithRange() throws IOException {
    byte[] large = new byte[300_000];
    for (int i = 0; i < large.length; i++) {
      large[i] = (byte) (i * 31 + 7);
    }
    Files.write(root.resolve("large.bin"), large);
    server =
        StaticServer.start(
            TestConfigs.memoryCache(
                DataSize.parse("64MiB"), DataSize.parse("64KiB"), Duration.ofSeconds(1)),
            root);

    HttpResponse<byte[]> whole = server.get("/large.bin");
    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(whole.body()).isEqualTo(large);
    assertThat(whole.headers().firstValue("Content-Length")).hasValue("300000");

    HttpResponse<byte[]> single = server.get("/large.bin", "Range", "bytes=1000-1999");
    assertThat(single.statusCode()).isEqualTo(206);
    assertThat(single.body()).isEqualTo(Arrays.copyOfRange(large, 1000, 2000));
    assertThat(single.headers().firstValue("Content-Range")).hasValue("bytes 1000-1999/300000");

    HttpResponse<byte[]> multi = server.get("/large.bin", "Range", "bytes=0-9,299990-");
    assertThat(multi.statusCode()).isEqualTo(206);
    String body = new String(multi.body(), ISO_8859_1);
    assertThat(body)
        .contains("Content-Range: bytes 0-9/300000\r\n\r\n" + latin1(large, 0, 10) + "\r\n--")
        .contains(
            "Content-Range: bytes 299990-299999/300000\r\n\r\n"
                + latin1(large, 299_990, 300_000)
                + "\r\n--");
    assertThat(multi.headers().firstValue("Content-Length"))
        .hasValue(Integer.toString(multi.body().length));

    // never cached: it goes out from the file every time
    assertThat(server.meter("foobar.static.cache.entries")).isZero();
  }

  @Test
  void largeFile_head_hasLengthAndNoBody() throws IOException {
    Files.write(root.resolve("large.bin"), new byte[200_000]);
    server =
        StaticServer.start(
            TestConfigs.memoryCache(
                DataSize.parse("64MiB"), DataSize.parse("64KiB"), Duration.ofSeconds(1)),
            root);
    HttpResponse<byte[]> response = server.send("HEAD", "/large.bin");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Length")).hasValue("200000");
    assertThat(response.body()).isEmpty();
  }

  private static String latin1(byte[] bytes, int from, int to) {
    return new String(Arrays.copyOfRange(bytes, from, to), ISO_8859_1);
  }
}
