package com.foobar.core;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log of one listener: one line per completed request, JSON or the combined log format,
 * formatted and written by a background thread so that request threads never wait on the disk.
 * Lines are queued (bounded). A request thread never waits for the log: when the queue is full (a
 * disk that stalls) or writing failed, the line is dropped and counted ({@code
 * foobar_accesslog_dropped_total}, event {@code accesslog.dropped} at most every 10 s), as HAProxy
 * drops log lines it cannot send. {@link #close()} writes out every queued line.
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

  private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** The longest a written line waits in the output buffer while lines keep coming. */
  private static final long FLUSH_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final String listener;

  /** The process's role and node, as every JSON log line carries them. */
  private final String role;

  private final String node;

  private final AccessLogConfig.Format format;
  private final Counter dropped;
  private final AtomicLong nextWarn = new AtomicLong(System.nanoTime());

  /** Writing failed: no line is queued from now on. */
  private volatile boolean failed;

  private final BlockingQueue<AccessEntry> queue = new ArrayBlockingQueue<>(16_384);
  private final OutputStream out;
  private final Thread writer;

  AccessLog(String listener, AccessLogConfig config, MeterRegistry registry) {
    this.listener = listener;
    this.role = Logging.property("role");
    this.node = Logging.property("node");
    this.format = config.format();
    this.dropped =
        Counter.builder("foobar.accesslog.dropped")
            .description(
                "Access lines dropped because the log's queue was full or writing it failed")
            .tag("listener", listener)
            .register(registry);
    try {
      this.out =
          config.file().isPresent()
              ? new BufferedOutputStream(new FileOutputStream(config.file().get().toFile(), true))
              // whole lines per write (see drain), at most PIPE_BUF bytes: a pipe takes such a
              // write at once, so the lines do not interleave with the JSON logger's
              : new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 4096);
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
    if (failed || !queue.offer(entry)) {
      drop();
    }
  }

  private void drop() {
    dropped.increment();
    long now = System.nanoTime();
    long due = nextWarn.get();
    if (now - due >= 0 && nextWarn.compareAndSet(due, now + WARN_EVERY_NANOS)) {
      log.atWarn()
          .addKeyValue("event", "accesslog.dropped")
          .addKeyValue("listener", listener)
          .addKeyValue("dropped", (long) dropped.count())
          .log(
              failed
                  ? "access log writing failed: lines are dropped"
                  : "access log queue full (the disk is slower than the requests): lines dropped");
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

  /**
   * Writes {@code e}'s JSON object with {@code g}, the writer's one generator (a line each, no
   * separator between them).
   */
  private void json(AccessEntry e, JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeStringField("ts", timestamp(e.epochMillis()));
    g.writeStringField("event", "http.access");
    g.writeStringField("role", role);
    g.writeStringField("node", node);
    g.writeStringField("listener", listener);
    g.writeStringField("remote", e.remote());
    g.writeStringField("method", e.method());
    g.writeStringField("uri", e.uri());
    g.writeStringField("protocol", e.protocol());
    g.writeNumberField("status", e.status());
    g.writeNumberField("bytes", e.bytes());
    g.writeFieldName("duration_ms");
    g.writeNumber(millis(e.nanos()));
    field(g, "referer", e.referer());
    field(g, "user_agent", e.userAgent());
    field(g, "request_id", e.requestId());
    if (e.backend() != null) {
      g.writeStringField("backend", e.backend());
      if (e.backendNanos() >= 0) {
        g.writeFieldName("backend_ms");
        g.writeNumber(millis(e.backendNanos()));
      }
    }
    if (e.attempts() > 0) {
      g.writeNumberField("attempts", e.attempts());
    }
    g.writeEndObject();
  }

  /** The second {@link #secondText} formats, in epoch seconds (the writer's thread only). */
  private long second = Long.MIN_VALUE;

  private String secondText;

  /**
   * {@code epochMillis} as ISO-8601 UTC with milliseconds ({@code 2026-11-26T14:37:17.042Z}): the
   * date and time of day formatted once a second, not for every line.
   */
  String timestamp(long epochMillis) {
    long s = Math.floorDiv(epochMillis, 1000);
    if (s != second) {
      // the whole second prints without a fraction: "…T14:37:17Z"
      String whole = Instant.ofEpochSecond(s).toString();
      secondText = whole.substring(0, whole.length() - 1);
      second = s;
    }
    int ms = Math.floorMod(epochMillis, 1000);
    return secondText + (ms < 10 ? ".00" : ms < 100 ? ".0" : ".") + ms + 'Z';
  }

  /** {@code nanos} in milliseconds with three decimals, as a JSON number. */
  static String millis(long nanos) {
    long micros = Math.max(0, nanos) / 1000;
    int frac = (int) (micros % 1000);
    return micros / 1000 + (frac < 10 ? ".00" : frac < 100 ? ".0" : ".") + frac;
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
    long flushed = System.nanoTime();
    try (JsonGenerator g = JSON.createGenerator(line, JsonEncoding.UTF8)) {
      g.setRootValueSeparator(null);
      while (true) {
        queue.drainTo(batch, BATCH);
        for (AccessEntry e : batch) {
          if (e == POISON) {
            out.flush();
            return;
          }
          line.reset();
          if (format == AccessLogConfig.Format.JSON) {
            json(e, g);
            g.flush();
          } else {
            line.write(combined(e).getBytes(StandardCharsets.UTF_8));
          }
          line.write('\n');
          // one write per line: a buffer that fills flushes whole lines only
          line.writeTo(out);
          unflushed = true;
        }
        // out when the queue is empty, and at least every FLUSH_NANOS under steady traffic
        if (unflushed && (batch.isEmpty() || System.nanoTime() - flushed > FLUSH_NANOS)) {
          out.flush();
          unflushed = false;
          flushed = System.nanoTime();
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
      failed = true;
      queue.clear();
      log.atError()
          .addKeyValue("event", "accesslog.failed")
          .addKeyValue("listener", listener)
          .setCause(e)
          .log("access log writing failed; no further access lines for this listener");
    }
  }

  /** Writes out every queued line and stops the writer thread (waits at most 5 s). */
  void close() throws InterruptedException {
    while (!failed && writer.isAlive() && !queue.offer(POISON, 100, TimeUnit.MILLISECONDS)) {
      LockSupport.unpark(writer);
    }
    LockSupport.unpark(writer);
    writer.join(TimeUnit.SECONDS.toMillis(5));
  }
}
