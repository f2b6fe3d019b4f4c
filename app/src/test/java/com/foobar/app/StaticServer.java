package com.foobar.app;

import com.foobar.core.StaticConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.undertow.Undertow;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/** A real Undertow server on 127.0.0.1 and an ephemeral port, serving a root with StaticFiles. */
final class StaticServer implements AutoCloseable {

  final FakeTicker ticker = new FakeTicker();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Undertow server;
  private final int port;
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private StaticServer(StaticConfig config, Path root) {
    server =
        Undertow.builder()
            .addHttpListener(0, "127.0.0.1")
            .setHandler(StaticFiles.handler(config, root, ticker, registry))
            .build();
    server.start();
    port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
  }

  static StaticServer start(StaticConfig config, Path root) {
    return new StaticServer(config, root);
  }

  static StaticServer start(Path root) {
    return new StaticServer(TestConfigs.defaults(), root);
  }

  /** Sends a request; {@code headers} alternate name, value. */
  HttpResponse<byte[]> send(String method, String path, String... headers) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    try {
      return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<byte[]> get(String path, String... headers) {
    return send("GET", path, headers);
  }

  /**
   * Writes {@code GET <target> HTTP/1.1} byte for byte (no client-side normalization) and returns
   * the whole response, headers and body, as ISO-8859-1 text.
   */
  String raw(String target, String... headerLines) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET "
                  + target
                  + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                  + String.join(
                      "", java.util.Arrays.stream(headerLines).map(h -> h + "\r\n").toList())
                  + "\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream response = new ByteArrayOutputStream();
      in.transferTo(response);
      return response.toString(StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The status code of a raw response. */
  static int status(String rawResponse) {
    return Integer.parseInt(rawResponse.substring(9, 12));
  }

  double meter(String name) {
    return registry.get(name).meter().measure().iterator().next().getValue();
  }

  @Override
  public void close() {
    server.stop();
  }
}
