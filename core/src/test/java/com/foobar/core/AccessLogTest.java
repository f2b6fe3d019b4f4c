package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access log's writer: whole lines, every queued line written, the fields of an entry. */
class AccessLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  private static AccessEntry entry(int i, String backend) {
    return new AccessEntry.Of(
        1_700_000_000_000L + i,
        "10.0.0." + (i % 250),
        "GET",
        "/item/" + i + "?q=\"x\"",
        "HTTP/2.0",
        200,
        i,
        2_500_000,
        null,
        "agent \\ " + i,
        "rid-" + i,
        backend,
        backend == null ? -1 : 1_250_000,
        backend == null ? 0 : 2);
  }

  /** An enabled log of listener {@code name} in {@code format} to {@code file}. */
  private static AccessLog open(
      String name, AccessLogConfig.Format format, Path file, MeterRegistry registry) {
    return new AccessLog(name, new AccessLogConfig(true, format, Optional.of(file)), registry);
  }

  @Test
  void linesFromManyThreads_eachWholeAndOnce_allWrittenByClose() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = open("test", AccessLogConfig.Format.JSON, file, new SimpleMeterRegistry());
    ExecutorService threads = Executors.newFixedThreadPool(4);
    // fewer than the queue holds, however slow the writer: none is dropped
    int per = 3_000;
    for (int t = 0; t < 4; t++) {
      int base = t * per;
      threads.execute(
          () -> {
            for (int i = base; i < base + per; i++) {
              log.write(entry(i, i % 2 == 0 ? "http://b:1" : null));
            }
          });
    }
    threads.shutdown();
    assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    log.close();
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(4 * per);
    Set<String> ids = new HashSet<>();
    for (String line : lines) {
      JsonNode n = JSON.readTree(line);
      int i = Integer.parseInt(n.path("request_id").asText().substring(4));
      assertThat(ids.add(n.path("request_id").asText())).isTrue();
      assertThat(n.path("uri").asText()).isEqualTo("/item/" + i + "?q=\"x\"");
      assertThat(n.path("user_agent").asText()).isEqualTo("agent \\ " + i);
      assertThat(n.path("bytes").asLong()).isEqualTo(i);
      assertThat(n.has("referer")).isFalse();
      if (i % 2 == 0) {
        assertThat(n.path("backend").asText()).isEqualTo("http://b:1");
        assertThat(n.path("backend_ms").asDouble()).isEqualTo(1.25);
        assertThat(n.path("attempts").asInt()).isEqualTo(2);
      } else {
        assertThat(n.has("backend")).isFalse();
        assertThat(n.has("backend_ms")).isFalse();
        assertThat(n.has("attempts")).isFalse();
      }
    }
  }

  @Test
  void oneLine_reachesTheFileWithoutAClose() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLog log = open("test", AccessLogConfig.Format.COMBINED, file, new SimpleMeterRegistry());
    try {
      log.write(entry(7, "http://b:1"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (Files.size(file) == 0 && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(5);
      }
      assertThat(Files.readAllLines(file))
          .singleElement()
          .asString()
          .matches(
              "10\\.0\\.0\\.7 - - \\[\\d\\d/Nov/2023:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}] \"GET"
                  + " /item/7\\?q=\\\\\"x\\\\\" HTTP/2\\.0\" 200 7 \"-\" \"agent \\\\\\\\ 7\"");
    } finally {
      log.close();
    }
  }

  @Test
  void timestampsAndDurations_asTheirJsonTextShows() throws Exception {
    AccessLog log =
        open("test", AccessLogConfig.Format.JSON, dir.resolve("a.log"), new SimpleMeterRegistry());
    try {
      assertThat(log.timestamp(1_700_000_000_042L)).isEqualTo("2023-11-14T22:13:20.042Z");
      assertThat(log.timestamp(1_700_000_000_999L)).isEqualTo("2023-11-14T22:13:20.999Z");
      assertThat(log.timestamp(1_700_000_001_000L)).isEqualTo("2023-11-14T22:13:21.000Z");
      assertThat(log.timestamp(1_700_000_000_100L)).isEqualTo("2023-11-14T22:13:20.100Z");
      assertThat(AccessLog.millis(16_483_879)).isEqualTo("16.483");
      assertThat(AccessLog.millis(1_250_000)).isEqualTo("1.250");
      assertThat(AccessLog.millis(42_000)).isEqualTo("0.042");
      assertThat(AccessLog.millis(999)).isEqualTo("0.000");
      assertThat(AccessLog.millis(61_000_000_000L)).isEqualTo("61000.000");
    } finally {
      log.close();
    }
  }

  @Test
  void aFailingDisk_linesAreDroppedAndCounted_neverHoldingTheRequestThread() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (LogCapture logs = new LogCapture(AccessLog.class)) {
      // every write to /dev/full fails (no space left on device)
      AccessLog log = open("full", AccessLogConfig.Format.JSON, Path.of("/dev/full"), registry);
      Counter dropped = registry.get("foobar.accesslog.dropped").tag("listener", "full").counter();
      // more lines than the queue holds, from one thread: none of them may wait for the writer
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () -> {
            for (int i = 0; i < 40_000; i++) {
              log.write(entry(i, null));
            }
          });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (logs.events("accesslog.failed").isEmpty() && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(10);
      }
      assertThat(logs.events("accesslog.failed")).hasSize(1);
      double before = dropped.count();
      for (int i = 0; i < 10; i++) {
        log.write(entry(i, null));
      }
      assertThat(dropped.count()).isEqualTo(before + 10);
      assertThat(logs.events("accesslog.dropped")).isNotEmpty().hasSizeLessThanOrEqualTo(2);
      assertTimeoutPreemptively(Duration.ofSeconds(10), log::close);
    }
  }
}
