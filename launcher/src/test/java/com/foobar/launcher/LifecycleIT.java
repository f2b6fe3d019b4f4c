package com.foobar.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up banner, the bundled site in role all, and SIGTERM draining. */
class LifecycleIT {
  @TempDir Path dir;

  @Test
  void roleAll_withoutConfig_servesTheSiteThroughTheLb_toTwoBackends_overMutualTls()
      throws Exception {
    try (JarProcess jar = JarProcess.start(dir)) {
      jar.awaitReady("http://127.0.0.1:9101/ready", Duration.ofSeconds(30));
      JarProcess.awaitBackendsUp("http://127.0.0.1:9101/stats?format=json", 2);

      // HTTPS (self-signed for the site) and HTTP/2 by ALPN, through the lb
      LinksJarIT.Curl home = LinksJarIT.curl("--http2", "https://localhost:8443/");
      assertThat(home.status()).isEqualTo(200);
      assertThat(home.headers())
          .startsWith("HTTP/2 200")
          .containsIgnoringCase("strict-transport-security");
      assertThat(home.body()).containsIgnoringCase("foobar").contains("</html>");
      for (int i = 0; i < 10; i++) {
        assertThat(LinksJarIT.curl("https://localhost:8443/robots.txt").status()).isEqualTo(200);
      }
      String stats =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:9101/stats?format=json"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(stats).contains("https://127.0.0.1:8081", "https://127.0.0.1:8082");
      assertThat(stats).doesNotContain("\"requests\":0,");

      // plain HTTP redirects to HTTPS, same host and path
      LinksJarIT.Curl redirect = LinksJarIT.curl("http://localhost:8080/a/b?c=d");
      assertThat(redirect.status()).isEqualTo(308);
      assertThat(redirect.headers())
          .containsIgnoringCase("location: https://localhost:8443/a/b?c=d");

      // a backend refuses a peer without a certificate from the internal CA
      Process direct =
          new ProcessBuilder("curl", "-sk", "--max-time", "5", "https://127.0.0.1:8081/")
              .redirectErrorStream(true)
              .start();
      direct.getInputStream().readAllBytes();
      assertThat(direct.waitFor()).as("curl exit code without a client certificate").isNotZero();
      assertThat(dir.resolve("data/certs/ca.pem")).exists();

      assertThat(jar.stderr())
          .contains("role all: lb, backend")
          .contains("https://0.0.0.0:8443")
          .contains("https://127.0.0.1:8081")
          .contains("https://127.0.0.1:8082")
          .contains("(embedded defaults)")
          .containsPattern("ready in\\s+\\d+ ms");
      assertThat(jar.terminate()).isZero();
    }
  }

  @Test
  void sigterm_finishesInFlightDownload_thenExits0() throws Exception {
    Path root = Files.createDirectories(dir.resolve("site"));
    byte[] big = new byte[32 << 20];
    new Random(7).nextBytes(big);
    Files.write(root.resolve("big.bin"), big);
    int port = JarProcess.freePort();
    int admin = JarProcess.freePort();
    Path config =
        JarProcess.config(
            dir,
            """
            backend:
              listen: 127.0.0.1:%d
              admin: 127.0.0.1:%d
              static: {root: %s}
              drain-timeout: 20s
            """
                .formatted(port, admin, root));
    try (JarProcess jar = JarProcess.start(dir, "--role=backend", "--config=" + config)) {
      jar.awaitReady("http://127.0.0.1:" + admin + "/ready", Duration.ofSeconds(20));
      try (Socket s = new Socket()) {
        s.setReceiveBufferSize(16 * 1024);
        s.connect(new InetSocketAddress("127.0.0.1", port));
        s.setSoTimeout(20_000);
        s.getOutputStream()
            .write("GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes());
        InputStream in = s.getInputStream();
        byte[] first = new byte[4096];
        int head = in.read(first);
        assertThat(head).isPositive();
        // the download is in flight (32 MiB cannot fit in socket buffers) when SIGTERM arrives
        ProcessHandle.of(jar.pid()).orElseThrow().destroy();
        TimeUnit.MILLISECONDS.sleep(300);
        assertThat(jar.isAlive()).as("still draining the download").isTrue();
        long total = head + RawHttp.readAll(in).length();
        assertThat(total).isGreaterThan(big.length);
      }
      assertThat(jar.terminate()).isZero();
      assertThat(jar.stdout()).contains("\"event\":\"foobar.stopping\"", "\"drained\":true");
    }
  }
}
