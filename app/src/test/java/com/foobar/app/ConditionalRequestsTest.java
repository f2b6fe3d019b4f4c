package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConditionalRequestsTest {

  private static final String LAST_MODIFIED = "Fri, 01 Mar 2024 12:00:00 GMT";

  @TempDir Path root;
  private StaticServer server;
  private String etag;

  @BeforeEach
  void site() throws IOException {
    Path file = root.resolve("page.txt");
    Files.writeString(file, "0123456789");
    Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2024-03-01T12:00:00Z")));
    server = StaticServer.start(root);
    etag = server.get("/page.txt").headers().firstValue("ETag").orElseThrow();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void ifNoneMatch_matchingEtag_returns304() {
    HttpResponse<byte[]> response = server.get("/page.txt", "If-None-Match", etag);

    assertThat(response.statusCode()).isEqualTo(304);
    assertThat(response.body()).isEmpty();
    assertThat(response.headers().firstValue("ETag")).hasValue(etag);
    assertThat(response.headers().firstValue("Cache-Control")).hasValue("public, max-age=3600");
  }

  @Test
  void ifMatch_matchingEtag_servesFile_otherEtag_returns412() {
    assertThat(server.get("/page.txt", "If-Match", "\"x\", " + etag).statusCode()).isEqualTo(200);
    assertThat(server.get("/page.txt", "If-Match", "*").statusCode()).isEqualTo(200);
    HttpResponse<byte[]> failed = server.get("/page.txt", "If-Match", "\"other\"");
    assertThat(failed.statusCode()).isEqualTo(412);
    assertThat(failed.body()).isEmpty();
    // If-Match compares strongly: a weak tag never matches
    assertThat(server.get("/page.txt", "If-Match", "W/" + etag).statusCode()).isEqualTo(412);
  }

  @Test
  void ifUnmodifiedSince_beforeModification_returns412_afterServes() {
    assertThat(
            server
                .get("/page.txt", "If-Unmodified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")
                .statusCode())
        .isEqualTo(412);
    assertThat(
            server
                .get("/page.txt", "If-Unmodified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")
                .statusCode())
        .isEqualTo(200);
    // If-Match takes precedence over If-Unmodified-Since
    assertThat(
            server
                .get(
                    "/page.txt",
                    "If-Match",
                    etag,
                    "If-Unmodified-Since",
                    "Mon, 01 Jan 2001 00:00:00 GMT")
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void ifNoneMatch_listContainingWeakEtag_returns304() {
    HttpResponse<byte[]> response =
        server.get("/page.txt", "If-None-Match", "\"other\", W/" + etag);
    assertThat(response.statusCode()).isEqualTo(304);
  }

  @Test
  void ifNoneMatch_star_returns304() {
    assertThat(server.get("/page.txt", "If-None-Match", "*").statusCode()).isEqualTo(304);
  }

  @Test
  void ifNoneMatch_otherEtag_returns200() {
    HttpResponse<byte[]> response = server.get("/page.txt", "If-None-Match", "\"abc-1\"");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).hasSize(10);
  }

  @Test
  void ifNoneMatch_takesPrecedenceOverIfModifiedSince() {
    HttpResponse<byte[]> response =
        server.get("/page.txt", "If-None-Match", "\"abc-1\"", "If-Modified-Since", LAST_MODIFIED);
    assertThat(response.statusCode()).isEqualTo(200);
  }

  @Test
  void ifModifiedSince_equalDate_returns304() {
    HttpResponse<byte[]> response = server.get("/page.txt", "If-Modified-Since", LAST_MODIFIED);
    assertThat(response.statusCode()).isEqualTo(304);
    assertThat(response.headers().firstValue("Last-Modified")).hasValue(LAST_MODIFIED);
  }

  @Test
  void ifModifiedSince_laterDate_returns304() {
    assertThat(
            server
                .get("/page.txt", "If-Modified-Since", "Sat, 02 Mar 2024 00:00:00 GMT")
                .statusCode())
        .isEqualTo(304);
  }

  @Test
  void ifModifiedSince_earlierDate_returns200() {
    assertThat(
            server
                .get("/page.txt", "If-Modified-Since", "Thu, 29 Feb 2024 00:00:00 GMT")
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void ifModifiedSince_garbage_isIgnored() {
    assertThat(server.get("/page.txt", "If-Modified-Since", "yesterday").statusCode())
        .isEqualTo(200);
  }

  @Test
  void head_withMatchingEtag_returns304() {
    assertThat(server.send("HEAD", "/page.txt", "If-None-Match", etag).statusCode()).isEqualTo(304);
  }
}
