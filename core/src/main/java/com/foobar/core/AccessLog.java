package com.foobar.core;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log of one listener: one line per completed request, JSON or the combined log format,
 * formatted and written by a background thread so that request threads never wait on the disk.
 * Lines are queued (bounded); when the queue is full a request thread waits rather than drop a
 * line. {@link #close()} writes out every queued line.
 */
final class AccessLog {
  /** Request header carrying the request id set by the load balancer. */
  static final String REQUEST_ID = "X-Request-Id";

  private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
  private static final JsonFactory JSON = new JsonFactory();
  private static final DateTimeFormatter COMBINED_TIME =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
          .withZone(ZoneId.systemDefault());
  private static final AccessEntry POISON =
      new AccessEntry.Of(0, "", "", "", "", 0, 0, 0, null, null, null, null, -1, 0);

  /**
   * How long the writer sleeps between batches: lines reach the file about this late, a busy
   * listener's writer finds tens of lines each time (not one per wake-up), and never so many that
   * formatting them holds the CPU it shares with the request threads for long (after 20 ms, a batch
   * took over a millisecond, and the lb's clients waited for it).
   */
  private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** Lines formatted at most before the writer sleeps again; a full batch means it is behind. */
  private static final int BATCH = 256;

  private final String listener;
  private final AccessLogConfig.Format format;
  private final BlockingQueue<AccessEntry> queue = new ArrayBlockingQueue<>(16_384);
  private final OutputStream out;
  private final Thread writer;

  AccessLog(String listener, AccessLogConfig config) {
    this.listener = listener;
    this.format = config.format();
    try {
      this.out =
          config.file().isPresent()
              ? new BufferedOutputStream(new FileOutputStream(config.file().get().toFile(), true))
              // whole lines per write (see drain): they do not interleave with the JSON logger's
              : new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open access log " + config.file().get(), e);
    }
    this.writer = new Thread(this::drain, "access-log-" + listener);
    writer.setDaemon(true);
    writer.start();
  }

  /** Queues the line of {@code exchange}, which ended {@code nanos} after it began. */
  void write(HttpServerExchange exchange, long nanos) {
    write(entry(exchange, nanos));
  }

  /** Queues the line of a request served outside Undertow's chain. */
  void write(AccessEntry entry) {
    try {
      queue.put(entry);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static AccessEntry entry(HttpServerExchange ex, long nanos) {
    var headers = ex.getRequestHeaders();
    AccessEntry.Proxied proxied = ex.getAttachment(AccessEntry.PROXIED);
    InetSocketAddress peer = ex.getSourceAddress();
    String query = ex.getQueryString();
    return new AccessEntry.Of(
        System.currentTimeMillis(),
        peer == null ? "-" : peer.getAddress().getHostAddress(),
        ex.getRequestMethod().toString(),
        query.isEmpty() ? ex.getRequestURI() : ex.getRequestURI() + '?' + query,
        ex.getProtocol().toString(),
        ex.getStatusCode(),
        ex.getResponseBytesSent(),
        nanos,
        headers.getFirst(Headers.REFERER),
        headers.getFirst(Headers.USER_AGENT),
        headers.getFirst(REQUEST_ID),
        proxied == null ? null : proxied.backend(),
        proxied == null ? -1 : proxied.backendNanos(),
        proxied == null ? 0 : proxied.attempts());
  }

  private void json(AccessEntry e, ByteArrayOutputStream line) throws IOException {
    try (JsonGenerator g = JSON.createGenerator(line, JsonEncoding.UTF8)) {
      g.writeStartObject();
      g.writeStringField("ts", Instant.ofEpochMilli(e.epochMillis()).toString());
      g.writeStringField("event", "http.access");
      g.writeStringField("listener", listener);
      g.writeStringField("remote", e.remote());
      g.writeStringField("method", e.method());
      g.writeStringField("uri", e.uri());
      g.writeStringField("protocol", e.protocol());
      g.writeNumberField("status", e.status());
      g.writeNumberField("bytes", e.bytes());
      g.writeNumberField("duration_ms", e.nanos() / 1_000_000.0);
      field(g, "referer", e.referer());
      field(g, "user_agent", e.userAgent());
      field(g, "request_id", e.requestId());
      if (e.backend() != null) {
        g.writeStringField("backend", e.backend());
        if (e.backendNanos() >= 0) {
          g.writeNumberField("backend_ms", e.backendNanos() / 1_000_000.0);
        }
      }
      if (e.attempts() > 0) {
        g.writeNumberField("attempts", e.attempts());
      }
      g.writeEndObject();
    }
  }

  private static void field(JsonGenerator g, String name, String value) throws IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
  }

  private static String combined(AccessEntry e) {
    return e.remote()
        + " - - ["
        + COMBINED_TIME.format(Instant.ofEpochMilli(e.epochMillis()))
        + "] \""
        + e.method()
        + ' '
        + quoted(e.uri())
        + ' '
        + e.protocol()
        + "\" "
        + e.status()
        + ' '
        + (e.bytes() == 0 ? "-" : Long.toString(e.bytes()))
        + " \""
        + (e.referer() == null ? "-" : quoted(e.referer()))
        + "\" \""
        + (e.userAgent() == null ? "-" : quoted(e.userAgent()))
        + '"';
  }

  private static String quoted(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private void drain() {
    List<AccessEntry> batch = new ArrayList<>(BATCH);
    ByteArrayOutputStream line = new ByteArrayOutputStream(512);
    boolean unflushed = false;
    try {
      while (true) {
        queue.drainTo(batch, BATCH);
        for (AccessEntry e : batch) {
          if (e == POISON) {
            out.flush();
            return;
          }
          line.reset();
          if (format == AccessLogConfig.Format.JSON) {
            json(e, line);
          } else {
            line.write(combined(e).getBytes(StandardCharsets.UTF_8));
          }
          line.write('\n');
          // one write per line: a buffer that fills flushes whole lines only
          line.writeTo(out);
          unflushed = true;
        }
        if (batch.isEmpty() && unflushed) {
          out.flush();
          unflushed = false;
        }
        boolean behind = batch.size() == BATCH;
        batch.clear();
        if (!behind) {
          // a sleep after every batch, lines waiting or not: a request thread's put wakes nobody,
          // and the writer never holds the CPU it shares with the request threads for long (woken
          // by each put, or yielding between batches, it switched in for a few lines at a time)
          LockSupport.parkNanos(this, IDLE_NANOS);
        }
      }
    } catch (IOException | RuntimeException e) {
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
    LockSupport.unpark(writer);
    writer.join(TimeUnit.SECONDS.toMillis(5));
  }
}
