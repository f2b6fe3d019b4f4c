package com.foobar.core;

import io.undertow.client.ClientConnection;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSourceConduit;

/**
 * A request body whose length is not announced (HTTP/1.1 chunked, HTTP/2 without {@code
 * content-length}) that Undertow's proxy forwards: it goes out chunked, as the proxy reads it from
 * the client. The backend must never get such a body cut short but complete, which Undertow's proxy
 * would send: whenever it gives up on a request, it closes the backend connection "cleanly", and
 * that writes the last chunk, so a backend would store a cut-off upload as whole. This guard
 * watches the body as the proxy reads it and, when the client's side fails, has the backend
 * connection's socket closed first ({@link Backend#cutOff}, with {@link #abort}), so the backend
 * sees the request end in the middle, as HAProxy shows it:
 *
 * <ul>
 *   <li>the client went away or sent a broken chunk: the read fails, or ends before Undertow saw
 *       the end of the body (its last chunk, or the end of the HTTP/2 stream) ({@link
 *       Fault#BROKEN});
 *   <li>the body goes over the limit ({@code max-body-size}), which shows only as it is forwarded
 *       ({@link Fault#TOO_LARGE}): as nginx does, the client gets 413, not a reset connection. The
 *       read that passes the limit delivers nothing more; the rest of the body is read and dropped
 *       ({@link Counting#drain}) so that the client, which sends it all before it reads, can read
 *       the answer;
 *   <li>the proxy's request timeout passes while the body is still coming ({@link Fault#TIMED_OUT},
 *       by {@link #timedOut}, which the proxy client calls from a timer set before the proxy's
 *       own): 408, as nginx answers a client too slow with its body. An HTTP/2 client that resets
 *       its stream mid-body ends here too: Undertow does not wake the proxy's reader for it.
 * </ul>
 *
 * <p>Then the proxy sees the body end (or fail), fails to finish the request, and the error status
 * it sets is to be replaced by the fault's ({@link #fault}) in a default response listener, on a
 * response that closes the connection (HTTP/1.1) or resets the rest of the stream (HTTP/2). The
 * proxy client should neither retry such a request nor count it against the backend.
 */
public final class ProxiedBody {

  /** Why the client's body did not reach the backend whole; the status the client gets. */
  public enum Fault {
    BROKEN(400, "the client's body broke off"),
    TIMED_OUT(408, "the body was still coming at the request timeout"),
    TOO_LARGE(413, "the body went over max-body-size");

    public final int status;
    public final String reason;

    Fault(int status, String reason) {
      this.status = status;
      this.reason = reason;
    }
  }

  /** The proxy's side: cuts the request off at its backend connection. */
  public interface Backend {
    /**
     * Closes the backend connection of {@code exchange}'s request without ending the request (see
     * {@link #abort}), when it has one.
     *
     * @param forwarded the bytes of the body the backend got
     */
    void cutOff(HttpServerExchange exchange, Fault fault, long forwarded);
  }

  /** The client's fault, on a request whose body was cut off at the backend. */
  private static final AttachmentKey<Fault> FAULT = AttachmentKey.create(Fault.class);

  /** The guard of a request's body, once the proxy has started to read it. */
  private static final AttachmentKey<Counting> GUARD = AttachmentKey.create(Counting.class);

  /** Undertow's HTTP/1.1 client connection, whose own close ends the request cleanly. */
  private static final Class<?> HTTP_CLIENT_CONNECTION;

  /** Its socket. */
  private static final Field SOCKET;

  static {
    try {
      HTTP_CLIENT_CONNECTION = Class.forName("io.undertow.client.http.HttpClientConnection");
      SOCKET = HTTP_CLIENT_CONNECTION.getDeclaredField("connection");
      SOCKET.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private ProxiedBody() {}

  /**
   * Guards {@code exchange}'s request body, counted against {@code maxBytes}, as the proxy reads
   * it, when its length is not announced; else sets {@code maxBytes} as Undertow's limit.
   */
  public static void guard(HttpServerExchange exchange, long maxBytes, Backend backend) {
    if (exchange.getRequestContentLength() >= 0 || exchange.isRequestComplete()) {
      exchange.setMaxEntitySize(maxBytes);
      return;
    }
    // Undertow's own limit would fail the read with an exception and reset the client's stream
    // (and takes -1 for a limit, not for none)
    exchange.setMaxEntitySize(Long.MAX_VALUE);
    exchange.addRequestWrapper(
        (factory, ex) -> {
          Counting c = new Counting(factory.create(), ex, maxBytes, backend);
          ex.putAttachment(GUARD, c);
          return c;
        });
  }

  /** The client's fault that cut {@code exchange}'s body off; null when there was none. */
  public static Fault fault(HttpServerExchange exchange) {
    return exchange.getAttachment(FAULT);
  }

  /**
   * The request timed out: a body still coming is cut off at the backend ({@link Fault#TIMED_OUT}).
   *
   * @return whether it was
   */
  public static boolean timedOut(HttpServerExchange exchange) {
    Counting c = exchange.getAttachment(GUARD);
    if (c == null || c.ended || c.stopped) {
      return false;
    }
    c.fail(Fault.TIMED_OUT);
    return true;
  }

  /**
   * Closes {@code connection}'s socket without ending the request it carries: no last chunk, no
   * flush, so the backend sees the request cut off.
   */
  public static void abort(ClientConnection connection) {
    if (HTTP_CLIENT_CONNECTION.isInstance(connection)) {
      try {
        IoUtils.safeClose((StreamConnection) SOCKET.get(connection));
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
    IoUtils.safeClose(connection);
  }

  private static final class Counting extends AbstractStreamSourceConduit<StreamSourceConduit> {
    private final HttpServerExchange exchange;
    private final long max;
    private final Backend backend;
    private long total;
    private long drained;
    private boolean draining;
    private boolean stopped;
    private boolean ended;

    Counting(StreamSourceConduit next, HttpServerExchange exchange, long max, Backend backend) {
      super(next);
      this.exchange = exchange;
      this.max = max;
      this.backend = backend;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (stopped) {
        return -1;
      }
      if (draining) {
        return drain(dst);
      }
      int at = dst.position();
      int n = guarded(dst);
      if (n == -1) {
        ended = true;
      } else if (n > 0) {
        total += n;
        if (total > max) {
          dst.position(at);
          exchange.putAttachment(FAULT, Fault.TOO_LARGE);
          exchange.setPersistent(false);
          drained = total - max;
          draining = true;
          return drain(dst);
        }
      }
      return n;
    }

    /**
     * Reads and drops the rest of the body, at most {@code max} more bytes, so that the 413 reaches
     * a client that sends its whole body before it reads: over HTTP/1.1, closing the connection on
     * unread data resets it, and the client may lose the answer; over HTTP/2, Undertow resets a
     * stream it answered before its end and then takes the client's next frames on it for a
     * protocol error, ending the whole connection (the JDK's client then loses the answer). The
     * backend, which got none of it, keeps waiting until then.
     */
    private int drain(ByteBuffer dst) throws IOException {
      int at = dst.position();
      while (true) {
        int n = guarded(dst);
        dst.position(at);
        if (n == 0) {
          return 0;
        }
        if (n == -1) {
          ended = true;
          stop();
          return -1;
        }
        drained += n;
        if (drained > max) {
          stop();
          return -1;
        }
      }
    }

    /** Reads on; when the client's body breaks off, cuts the request off at the backend first. */
    private int guarded(ByteBuffer dst) throws IOException {
      int n;
      try {
        n = next.read(dst);
      } catch (IOException | RuntimeException e) {
        broken();
        throw e;
      }
      if (n == -1 && !exchange.isRequestComplete()) {
        // the connection or stream ended before the body did: Undertow's decoders take that for
        // the end of the body, and its proxy would send the last chunk
        broken();
        throw new IOException("the request body ended early");
      }
      return n;
    }

    private void broken() {
      if (exchange.getAttachment(FAULT) == null) {
        exchange.putAttachment(FAULT, Fault.BROKEN);
      }
      stopped = true;
      abortBackend();
    }

    /** Ends the body with {@code fault}, when it has none yet. */
    void fail(Fault fault) {
      if (exchange.getAttachment(FAULT) == null) {
        exchange.putAttachment(FAULT, fault);
      }
      exchange.setPersistent(false);
      stop();
    }

    /**
     * Ends the body for the proxy: the backend connection is aborted first, so that the proxy's end
     * of the request (the last chunk) cannot reach the backend as a complete, shorter body.
     */
    private void stop() {
      stopped = true;
      draining = false;
      abortBackend();
      if (!ended) {
        next.suspendReads();
      }
    }

    private void abortBackend() {
      backend.cutOff(exchange, exchange.getAttachment(FAULT), Math.min(total, max));
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
      for (int i = offs; i < offs + len; i++) {
        if (dsts[i].hasRemaining()) {
          return read(dsts[i]);
        }
      }
      return 0;
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target)
        throws IOException {
      return Conduits.transfer(this, count, throughBuffer, target);
    }

    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
      return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    // stopped before the end of the body: the client's side stays open for the answer, which then
    // ends the connection or stream, and its reads stay suspended (resumed, an HTTP/2 stream would
    // call its read listener again and again for the data left)

    @Override
    public void terminateReads() throws IOException {
      if (!stopped || ended) {
        next.terminateReads();
      }
    }

    @Override
    public boolean isReadShutdown() {
      return stopped || next.isReadShutdown();
    }

    @Override
    public void resumeReads() {
      if (!stopped) {
        next.resumeReads();
      }
    }

    @Override
    public void wakeupReads() {
      if (!stopped) {
        next.wakeupReads();
      }
    }
  }
}
