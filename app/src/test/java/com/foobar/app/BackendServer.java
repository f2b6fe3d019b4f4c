package com.foobar.app;

import com.foobar.core.ConfigLoader;
import com.foobar.core.FoobarConfig;
import com.foobar.core.Metrics;
import com.foobar.replication.Database;
import com.foobar.replication.Databases;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A whole backend role ({@link Backend#start}) on 127.0.0.1 and an ephemeral port, configured by a
 * YAML snippet under {@code backend:} merged over the embedded defaults, with the embedded database
 * and a static root holding {@code index.html} ("static index") in a temporary directory.
 */
final class BackendServer implements AutoCloseable {
  final Metrics metrics;
  final Database database;
  final Backend backend;
  final String base;
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private BackendServer(Metrics metrics, Database database, Backend backend) {
    this.metrics = metrics;
    this.database = database;
    this.backend = backend;
    this.base = "http://" + backend.listeners().get(0).address().host() + ":" + port();
  }

  /**
   * Starts a backend; {@code backendYaml} is indented by the caller as the body of {@code backend:}
   * (two spaces).
   */
  static BackendServer start(Path dir, String backendYaml) throws IOException {
    FoobarConfig config = config(dir, backendYaml);
    Metrics metrics = Metrics.create("test");
    Database database = Databases.embedded(dir.resolve("data"), metrics.registry());
    try {
      return new BackendServer(
          metrics, database, Backend.start(config.backend(), database, metrics));
    } catch (RuntimeException e) {
      database.close();
      metrics.close();
      throw e;
    }
  }

  static FoobarConfig config(Path dir, String backendYaml) throws IOException {
    Path site = Files.createDirectories(dir.resolve("site"));
    Files.writeString(site.resolve("index.html"), "static index");
    Path file = dir.resolve("foobar.yml");
    Files.writeString(
        file,
        "backend:\n"
            + "  listen: 127.0.0.1:0\n"
            + "  admin: 127.0.0.1:0\n"
            + "  access-log: {enabled: false}\n"
            + "  static: {root: "
            + site
            + "}\n"
            + "  plugins: "
            + dir.resolve("plugins")
            + "\n"
            + backendYaml);
    return ConfigLoader.load(Optional.of(file), Map.of());
  }

  int port() {
    return backend.listeners().get(0).address().port();
  }

  HttpResponse<String> send(String method, String path, String body, String... headers) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(10))
            .method(
                method,
                body.isEmpty()
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    try {
      return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<String> get(String path, String... headers) {
    return send("GET", path, "", headers);
  }

  HttpResponse<String> postJson(String path, String json) {
    return send("POST", path, json, "Content-Type", "application/json");
  }

  /**
   * Writes {@code head} (request line and headers, without the blank line), the blank line, then
   * {@code body}; returns the whole response as ISO-8859-1 text. Closes the connection.
   */
  String raw(String head, byte[] body) {
    try (Socket socket = new Socket("127.0.0.1", port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write((head + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      try {
        out.write(body);
        out.flush();
      } catch (IOException e) {
        // the server may answer and close before the whole body is written; its answer counts
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream response = new ByteArrayOutputStream();
      try {
        in.transferTo(response);
      } catch (IOException e) {
        // a reset after the answer arrived: what was read is the answer
      }
      return response.toString(StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      backend.stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      database.close();
      metrics.close();
    }
  }
}
