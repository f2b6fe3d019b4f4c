package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.foobar.replication.MariaDbPair;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real jar as a backend on a real MariaDB primary + GTID replica: creations land on the primary
 * and reach the replica, redirects read the replica, keep working on the primary while the replica
 * is stopped, and go back to it when it returns.
 */
class LinksReplicationIT {
  @RegisterExtension static final MariaDbPair pair = new MariaDbPair();
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  @TempDir Path dir;

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(
        request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String url) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(url)));
  }

  /** The count of {@code foobar_db_tx_seconds} for reads on {@code route}, from /metrics. */
  private long reads(String admin, String route) throws Exception {
    String metrics = get(admin + "/metrics").body();
    Matcher m =
        Pattern.compile(
                "foobar_db_tx_seconds_count\\{[^}]*kind=\"read\"[^}]*route=\""
                    + route
                    + "\"[^}]*\\} (\\S+)")
            .matcher(metrics);
    long total = 0;
    while (m.find()) {
      total += (long) Double.parseDouble(m.group(1));
    }
    return total;
  }

  @Test
  void links_writeOnThePrimary_readOnTheReplica_fallBackAndRecover() throws Exception {
    int port = JarProcess.freePort();
    int adminPort = JarProcess.freePort();
    Path config =
        JarProcess.config(
            dir,
            """
            backend:
              listen: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              apps: {links: {prefix: /, config: {cache-size: 0}}}
            database:
              primary: %s
              replicas: [%s]
              user: %s
              password: ${DB_PASSWORD}
              replica-timeout: 250ms
              replica-retry: 500ms
            """
                .formatted(port, adminPort, pair.primaryUrl(), pair.replicaUrl(), pair.user()));
    String base = "http://127.0.0.1:" + port;
    String admin = "http://127.0.0.1:" + adminPort;
    try (JarProcess jar =
        JarProcess.start(
            dir, Map.of("DB_PASSWORD", pair.password()), "--role=backend", "--config=" + config)) {
      jar.awaitReady(admin + "/ready", Duration.ofSeconds(30));
      assertThat(jar.stderr())
          .contains(
              "primary 127.0.0.1:"
                  + pair.port(MariaDbPair.Node.PRIMARY)
                  + ", replicas 127.0.0.1:"
                  + pair.port(MariaDbPair.Node.REPLICA));

      HttpResponse<String> created =
          send(
              HttpRequest.newBuilder(URI.create(base + "/api/links"))
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"url\":\"https://example.com/r\",\"code\":\"repl-1\"}")));
      assertThat(created.statusCode()).isEqualTo(201);
      // the row was written on the primary and replicated
      pair.waitForReplica();
      assertThat(
              pair.rootSql(
                  MariaDbPair.Node.REPLICA, "SELECT url FROM foobar.links WHERE code = 'repl-1'"))
          .contains("https://example.com/r");

      long onReplica = reads(admin, "replica");
      for (int i = 0; i < 5; i++) {
        assertThat(get(base + "/r/repl-1").statusCode()).isEqualTo(302);
      }
      assertThat(reads(admin, "replica") - onReplica)
          .as("redirects read on the replica")
          .isEqualTo(5);

      pair.stopReplica();
      try {
        long onPrimary = reads(admin, "primary");
        for (int i = 0; i < 5; i++) {
          HttpResponse<String> r = get(base + "/r/repl-1");
          assertThat(r.statusCode()).as("redirect with the replica stopped").isEqualTo(302);
        }
        assertThat(reads(admin, "primary") - onPrimary).isGreaterThanOrEqualTo(5);
        assertThat(get(admin + "/metrics").body())
            .containsPattern("foobar_db_read_fallbacks_total\\{[^}]*\\} [1-9]");
        assertThat(jar.stdout()).contains("\"event\":\"db.read_fallback\"");
      } finally {
        pair.startReplica();
      }

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      long before = reads(admin, "replica");
      while (reads(admin, "replica") == before && System.nanoTime() < deadline) {
        assertThat(get(base + "/r/repl-1").statusCode()).isEqualTo(302);
        Thread.sleep(100);
      }
      assertThat(reads(admin, "replica")).as("reads back on the replica").isGreaterThan(before);
      assertThat(JSON.readTree(get(base + "/api/links/repl-1").body()).path("url").asText())
          .isEqualTo("https://example.com/r");
      assertThat(jar.terminate()).isZero();
    }
  }
}
