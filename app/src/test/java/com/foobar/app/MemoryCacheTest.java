package com.foobar.app;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.DataSize;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryCacheTest {

  @TempDir Path root;
  private StaticServer server;

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void fileChangedOnDisk_servedFromMemoryUntilRevalidate() throws IOException {
    Path file = write("page.txt", "version one", "2024-01-01T00:00:00Z");
    server = StaticServer.start(root);
    server.get("/page.txt");
    write("page.txt", "version two", "2024-01-02T00:00:00Z");
    server.ticker.advance(Duration.ofMillis(999));

    assertThat(body(server.get("/page.txt"))).isEqualTo("version one");
    assertThat(Files.readString(file)).isEqualTo("version two");
  }

  @Test
  void fileChangedOnDisk_servedFreshAfterRevalidate() throws IOException {
    write("page.txt", "version one", "2024-01-01T00:00:00Z");
    server = StaticServer.start(root);
    String firstEtag = server.get("/page.txt").headers().firstValue("ETag").orElseThrow();
    write("page.txt", "version two!", "2024-01-02T00:00:00Z");
    server.ticker.advance(Duration.ofSeconds(1));
    HttpResponse<byte[]> response = server.get("/page.txt");

    assertThat(body(response)).isEqualTo("version two!");
    assertThat(response.headers().firstValue("ETag")).isPresent().isNotEqualTo(firstEtag);
  }

  @Test
  void fileUnchanged_afterRevalidate_staysCachedAndIsHitAgain() throws IOException {
    write("page.txt", "same", "2024-01-01T00:00:00Z");
    server = StaticServer.start(root);
    server.get("/page.txt");
    server.ticker.advance(Duration.ofSeconds(5));
    server.get("/page.txt"); // revalidates on a worker
    server.get("/page.txt"); // hit again

    assertThat(server.meter("foobar.static.cache.hits")).isEqualTo(2.0);
    assertThat(server.meter("foobar.static.cache.entries")).isEqualTo(1.0);
  }

  @Test
  void fileRemoved_afterRevalidate_returns404() throws IOException {
    write("page.txt", "soon gone", "2024-01-01T00:00:00Z");
    server = StaticServer.start(root);
    server.get("/page.txt");
    Files.delete(root.resolve("page.txt"));
    server.ticker.advance(Duration.ofSeconds(1));

    assertThat(server.get("/page.txt").statusCode()).isEqualTo(404);
  }

  @Test
  void revalidateZero_checksDiskOnEveryRequest() throws IOException {
    write("page.txt", "one", "2024-01-01T00:00:00Z");
    server =
        StaticServer.start(
            TestConfigs.memoryCache(DataSize.parse("1MiB"), DataSize.parse("64KiB"), Duration.ZERO),
            root);
    server.get("/page.txt");
    write("page.txt", "two", "2024-01-02T00:00:00Z");

    assertThat(body(server.get("/page.txt"))).isEqualTo("two");
  }

  @Test
  void maxBytes_boundsCache_evictsAndCounts() throws IOException {
    for (int i = 0; i < 20; i++) {
      Files.write(root.resolve("f" + i + ".bin"), new byte[10_000]);
    }
    server =
        StaticServer.start(
            TestConfigs.memoryCache(
                DataSize.parse("50KiB"), DataSize.parse("16KiB"), Duration.ofSeconds(1)),
            root);
    for (int i = 0; i < 20; i++) {
      assertThat(server.get("/f" + i + ".bin").body()).hasSize(10_000);
    }

    // Caffeine evicts asynchronously; poll the gauge until maintenance ran (no sleeping for time)
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (server.meter("foobar.static.cache.bytes") > 50 * 1024 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(server.meter("foobar.static.cache.bytes")).isLessThanOrEqualTo(50 * 1024);
    assertThat(server.meter("foobar.static.cache.evictions")).isGreaterThan(0);
  }

  private Path write(String name, String content, String mtime) throws IOException {
    Path file = root.resolve(name);
    Files.writeString(file, content);
    Files.setLastModifiedTime(file, FileTime.from(Instant.parse(mtime)));
    return file;
  }

  private static String body(HttpResponse<byte[]> response) {
    return new String(response.body(), UTF_8);
  }
}
