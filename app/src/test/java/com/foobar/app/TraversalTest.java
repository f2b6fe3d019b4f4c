package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Path traversal, sent as raw request lines so no client normalizes them. The served root is {@code
 * base/site}; {@code base/secret.txt} sits next to it and must never be returned.
 */
class TraversalTest {

  private static final String SECRET = "TOP-SECRET-CONTENT";

  @TempDir Path base;
  private Path root;
  private StaticServer server;

  @BeforeEach
  void site() throws IOException {
    root = Files.createDirectories(base.resolve("site"));
    Files.writeString(base.resolve("secret.txt"), SECRET);
    Files.createDirectories(root.resolve("a/b"));
    Files.writeString(root.resolve("a/b/page.txt"), "inside");
    Files.writeString(root.resolve("ok.txt"), "ok");
    server = StaticServer.start(root);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void control_insideFile_isServed() {
    String response = server.raw("/a/b/page.txt");
    assertThat(StaticServer.status(response)).isEqualTo(200);
    assertThat(response).endsWith("inside");
  }

  @Test
  void traversal_plainDotDot_returns404() {
    assertNotFound("/../secret.txt");
    assertNotFound("/a/../../secret.txt");
    assertNotFound("/a/b/../../../secret.txt");
  }

  @Test
  void traversal_dotDotInsideRoot_returns404() {
    // nginx would normalize this to /ok.txt; we refuse any dot segment outright
    assertNotFound("/a/../ok.txt");
    assertNotFound("/./ok.txt");
  }

  @Test
  void traversal_encodedDotDot_returns404() {
    assertNotFound("/%2e%2e/secret.txt");
    assertNotFound("/%2E%2E/secret.txt");
    assertNotFound("/a/%2e%2e/%2e%2e/secret.txt");
    assertNotFound("/.%2e/secret.txt");
  }

  @Test
  void traversal_doubleEncodedDotDot_returns404() {
    assertNotFound("/%252e%252e/secret.txt");
  }

  @Test
  void traversal_encodedSlash_returns404() {
    assertNotFound("/..%2fsecret.txt");
    assertNotFound("/a%2f..%2f..%2fsecret.txt");
    assertNotFound("/%2e%2e%2fsecret.txt");
    assertNotFound("/a/b%2Fpage.txt");
  }

  @Test
  void traversal_backslash_returns404() {
    assertNotFound("/..%5csecret.txt");
    assertNotFound("/a%5c..%5c..%5csecret.txt");
  }

  @Test
  void traversal_rawBackslash_rejectedByUndertowWith400() {
    String response = server.raw("/..\\secret.txt");
    assertThat(StaticServer.status(response)).isEqualTo(400);
    assertThat(response).doesNotContain(SECRET);
  }

  @Test
  void traversal_nulByte_returns404() {
    assertNotFound("/ok.txt%00.html");
    assertNotFound("/../secret.txt%00");
  }

  @Test
  void traversal_absolutePathInTarget_returns404() {
    assertNotFound("//" + base.resolve("secret.txt").toString().substring(1));
  }

  @Test
  void symlinkOutsideRoot_returns404() throws IOException {
    Files.createSymbolicLink(root.resolve("leak.txt"), base.resolve("secret.txt"));
    Files.createSymbolicLink(root.resolve("leakdir"), base);

    assertNotFound("/leak.txt");
    assertNotFound("/leakdir/secret.txt");
  }

  @Test
  void symlinkInsideRoot_isServed() throws IOException {
    Files.createSymbolicLink(root.resolve("alias.txt"), root.resolve("ok.txt"));
    String response = server.raw("/alias.txt");

    assertThat(StaticServer.status(response)).isEqualTo(200);
    assertThat(response).endsWith("ok");
  }

  @Test
  void symlinkIndexOutsideRoot_returns404() throws IOException {
    Files.createDirectories(root.resolve("d"));
    Files.createSymbolicLink(root.resolve("d/index.html"), base.resolve("secret.txt"));
    assertNotFound("/d/");
  }

  @Test
  void precompressedSiblingSymlinkOutsideRoot_isNotServed() throws IOException {
    Files.writeString(root.resolve("app.js"), "x".repeat(2000));
    Files.createSymbolicLink(root.resolve("app.js.gz"), base.resolve("secret.txt"));
    String response = server.raw("/app.js", "Accept-Encoding: gzip");

    assertThat(StaticServer.status(response)).isEqualTo(200);
    assertThat(response).doesNotContain(SECRET);
  }

  private void assertNotFound(String target) {
    String response = server.raw(target);
    assertThat(StaticServer.status(response)).as(target).isEqualTo(404);
    assertThat(response).as(target).doesNotContain(SECRET);
  }
}
