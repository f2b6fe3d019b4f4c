package com.foobar.core;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log of one listener: one line per completed request, JSON or the combined log format,
 * written by a background thread so that request threads never wait on the disk. Lines are queued
 * (bounded); when the queue is full a request thread waits rather than drop a line. {@link
 * #close()} writes out every queued line.
 */
final class AccessLog {
  /** Request header carrying the request id set by the load balancer. */
  static final String REQUEST_ID = "X-Request-Id";

  private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final DateTimeFormatter COMBINED_TIME =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
          .withZone(ZoneId.systemDefault());
  private static final String POISON = "";

  private final String listener;
  private final AccessLogConfig.Format format;
  private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(16_384);
  private final OutputStream out;
  private final Thread writer;

  AccessLog(String listener, AccessLogConfig config) {
    this.listener = listener;
    this.format = config.format();
    try {
      this.out =
          config.file().isPresent()
              ? new BufferedOutputStream(new FileOutputStream(config.file().get().toFile(), true))
              : new PrintStream(new FileOutputStream(java.io.FileDescriptor.out), false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open access log " + config.file().get(), e);
    }
    this.writer = new Thread(this::drain, "access-log-" + listener);
    writer.setDaemon(true);
    writer.start();
  }

  void write(HttpServerExchange exchange, long nanos) {
    String line =
        format == AccessLogConfig.Format.JSON ? json(exchange, nanos) : combined(exchange);
    try {
      queue.put(line);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String json(HttpServerExchange ex, long nanos) {
    StringWriter text = new StringWriter(256);
    try (JsonGenerator g = JSON.createGenerator(text)) {
      g.writeStartObject();
      g.writeStringField("ts", Instant.now().toString());
      g.writeStringField("event", "http.access");
      g.writeStringField("listener", listener);
      g.writeStringField("remote", remote(ex));
      g.writeStringField("method", ex.getRequestMethod().toString());
      g.writeStringField("uri", uri(ex));
      g.writeStringField("protocol", ex.getProtocol().toString());
      g.writeNumberField("status", ex.getStatusCode());
      g.writeNumberField("bytes", ex.getResponseBytesSent());
      g.writeNumberField("duration_ms", nanos / 1_000_000.0);
      field(g, "referer", ex.getRequestHeaders().getFirst(Headers.REFERER));
      field(g, "user_agent", ex.getRequestHeaders().getFirst(Headers.USER_AGENT));
      field(g, "request_id", ex.getRequestHeaders().getFirst(REQUEST_ID));
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }

  private static void field(JsonGenerator g, String name, String value) throws IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
  }

  private static String combined(HttpServerExchange ex) {
    String referer = ex.getRequestHeaders().getFirst(Headers.REFERER);
    String agent = ex.getRequestHeaders().getFirst(Headers.USER_AGENT);
    long bytes = ex.getResponseBytesSent();
    return remote(ex)
        + " - - ["
        + COMBINED_TIME.format(Instant.now())
        + "] \""
        + ex.getRequestMethod()
        + ' '
        + quoted(uri(ex))
        + ' '
        + ex.getProtocol()
        + "\" "
        + ex.getStatusCode()
        + ' '
        + (bytes == 0 ? "-" : Long.toString(bytes))
        + " \""
        + (referer == null ? "-" : quoted(referer))
        + "\" \""
        + (agent == null ? "-" : quoted(agent))
        + '"';
  }

  private static String quoted(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static String uri(HttpServerExchange ex) {
    String query = ex.getQueryString();
    return query.isEmpty() ? ex.getRequestURI() : ex.getRequestURI() + '?' + query;
  }

  private static String remote(HttpServerExchange ex) {
    InetSocketAddress peer = ex.getSourceAddress();
    return peer == null ? "-" : peer.getAddress().getHostAddress();
  }

  private void drain() {
    List<String> batch = new ArrayList<>(256);
    try {
      while (true) {
        String first = queue.take();
        batch.add(first);
        queue.drainTo(batch, 255);
        boolean stop = false;
        for (String line : batch) {
          if (line.isEmpty()) {
            stop = true;
            continue;
          }
          out.write(line.getBytes(StandardCharsets.UTF_8));
          out.write('\n');
        }
        batch.clear();
        if (queue.isEmpty() || stop) {
          out.flush();
        }
        if (stop) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      log.atError()
          .addKeyValue("event", "accesslog.failed")
          .addKeyValue("listener", listener)
          .setCause(e)
          .log("access log writing failed; no further access lines for this listener");
    }
  }

  /** Writes out every queued line and stops the writer thread (waits at most 5 s). */
  void close() throws InterruptedException {
    queue.put(POISON);
    writer.join(TimeUnit.SECONDS.toMillis(5));
  }
}
