package com.foobar.lb;

import static com.foobar.lb.H1Relay.BACKEND_OPTIONS;
import static com.foobar.lb.H1Relay.BODY_CHUNKED;
import static com.foobar.lb.H1Relay.BODY_LENGTH;
import static com.foobar.lb.H1Relay.BODY_NONE;
import static com.foobar.lb.H1Relay.BODY_UNTIL_CLOSE;
import static com.foobar.lb.H1Relay.CHUNKED;
import static com.foobar.lb.H1Relay.CLOSE;
import static com.foobar.lb.H1Relay.CONNECTION;
import static com.foobar.lb.H1Relay.CONTENT_LENGTH;
import static com.foobar.lb.H1Relay.HTTP_1_0_LOWER;
import static com.foobar.lb.H1Relay.HTTP_1_1_LOWER;
import static com.foobar.lb.H1Relay.KEEP_ALIVE;
import static com.foobar.lb.H1Relay.MAX_RESPONSE_HEAD;
import static com.foobar.lb.H1Relay.PROXY_CONNECTION;
import static com.foobar.lb.H1Relay.STRICT_TRANSPORT_SECURITY;
import static com.foobar.lb.H1Relay.TLS_BACKEND_OPTIONS;
import static com.foobar.lb.H1Relay.TRANSFER_ENCODING;
import static com.foobar.lb.H1Relay.X_REQUEST_ID;
import static com.foobar.lb.H1Relay.append;
import static com.foobar.lb.H1Relay.serves;

import com.foobar.core.AccessEntry;
import com.foobar.lb.H1Relay.State;
import com.foobar.lb.RelayPool.Slots;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import org.xnio.IoFuture;
import org.xnio.StreamConnection;

/**
 * A request that backend connections serve: the request in flight on a relayed client connection
 * ({@link RelayClient}) or an HTTP/2 stream of Undertow's listener ({@link RelayStream}). Picks the
 * backend, waits for or opens a connection to it, retries once on a fresh connection when a
 * kept-alive one turns out closed, and follows the response's framing; the subclass says where the
 * response goes.
 */
abstract class RelayRequest implements AccessEntry.Proxied {
  final H1Relay relay;
  final RelayLoop loop;
  int index = -1;
  State st;
  boolean busy;
  HttpString method;
  boolean headRequest;
  boolean idempotent;
  boolean json;
  boolean closeAfter;
  byte[] request;
  String requestId;
  long start;
  Upstream upstream;
  RelayBackend backend;
  boolean responseStarted;
  boolean freshRetried;
  boolean queued;
  long queuedSince;
  int status;

  /** The status of the response head being read (a 1xx is interim). */
  int headStatus;

  /** Backends the request in flight was sent to (its access line's {@code attempts}). */
  int attempts;

  /** When the final response head of the request in flight came; -1 before. */
  long headAt = -1;

  RelayRequest(H1Relay relay, RelayLoop loop) {
    this.relay = relay;
    this.loop = loop;
  }

  /** The request's method, and what follows from it. */
  void setMethod(HttpString m) {
    method = m;
    headRequest = m.equals(Methods.HEAD);
    idempotent = !m.equals(Methods.POST) && !m.equals(Methods.PATCH);
  }

  /** A new request is in flight from now on: its timer starts. */
  void begin() {
    start = relay.ticker.read();
    attempts = 0;
    headAt = -1;
  }

  @Override
  public String backend() {
    return attempts == 0 ? null : upstream.name();
  }

  @Override
  public long backendNanos() {
    return headAt < 0 ? -1 : headAt - start;
  }

  @Override
  public int attempts() {
    return attempts;
  }

  /** Gives the request to Undertow's proxy, which retries it elsewhere or answers 502/503. */
  abstract void handBack();

  /** Answers the request with the lb's own page for {@code code} (502, 503 or 504). */
  abstract void answer(int code);

  /** Ends a response that started and cannot be finished: the client must not take it as whole. */
  abstract void abort();

  /** Timeouts, from the loop's sweep. */
  abstract void sweep(long now);

  /**
   * Takes the status line {@code [from, lineEnd)} of a response head whose status is {@code code}.
   */
  abstract void statusLine(ByteBuffer src, int from, int lineEnd);

  /**
   * Takes the header line {@code [line, eol)} with name {@code [line, colon)} and value {@code [v,
   * ve)}; false when the head grew too large.
   */
  abstract boolean header(ByteBuffer src, int line, int colon, int v, int ve, int eol);

  /** Whether the field named {@code [line, colon)}, of {@code length} bytes, stays out. */
  abstract boolean dropped(ByteBuffer src, int line, int colon, int length);

  /** The head is read: a final one ({@link #status} set) or an interim one. */
  abstract void headDone(boolean interim);

  /** Passes an interim (1xx) head on; false when the client has not taken it all. */
  abstract boolean interim();

  /**
   * Passes {@code [from, to)} of the body on (with the final head first, when {@code headOut});
   * false when the client has not taken it all.
   */
  abstract boolean body(
      RelayBackend b, ByteBuffer src, int from, int to, boolean headOut, boolean done);

  /** Where the data of a chunked body goes, without its framing; null to pass the framing on. */
  abstract Heads.Data dechunked();

  /** The response was passed on whole, {@code nanos} after the request began. */
  abstract void finished(long nanos);

  /** Sends the request in {@code bytes} (read mode) to a backend not in {@code tried}. */
  void dispatch(ByteBuffer bytes, List<Upstream> tried) {
    Optional<Upstream> picked = st.route.balancer().pick(tried);
    if (picked.isEmpty() || !serves(st.route, picked.get())) {
      handBack();
      return;
    }
    Upstream u = picked.get();
    upstream = u;
    attempts++;
    responseStarted = false;
    status = 0;
    u.inFlight().incrementAndGet();
    RelayBackend b = loop.takeIdle(u);
    if (b != null) {
      b.attach(this, true);
      b.send(bytes);
      return;
    }
    connectOrWait(u);
  }

  /**
   * Opens a new connection to {@code u} when the pool's cap allows one, else waits for one in this
   * thread's queue (503 when it is full).
   */
  void connectOrWait(Upstream u) {
    Slots slots = loop.pool.slots(u);
    if (!slots.reserve(st.settings.maxConnections())) {
      ArrayDeque<RelayRequest> q = loop.waiting(u);
      if (q.size() >= st.settings.queuePerThread()) {
        u.inFlight().decrementAndGet();
        answer(503);
        return;
      }
      queued = true;
      queuedSince = relay.ticker.read();
      q.addLast(this);
      slots.waiting.incrementAndGet();
      // a connection that closed between the failed reservation and the count above saw no
      // waiter, so this thread looks again: counting first, then reserving, one of the two sides
      // sees the other
      loop.wake(u);
      if (queued) {
        // another IO thread may hold the connections idle: it closes one so that this thread can
        // open it
        loop.pool.elsewhere(loop, l -> l.shedIdle(u));
      }
      return;
    }
    connect(u);
  }

  /** Opens a new backend connection for the request in flight, in a slot already reserved. */
  void connect(Upstream u) {
    RelayBackend b = new RelayBackend(loop, u);
    b.attach(this, false);
    backend = b;
    IoFuture<? extends StreamConnection> future =
        "https".equals(u.url().getScheme())
            ? st.route
                .upstreamTls()
                .orElseThrow()
                .openSslConnection(loop.thread, loop.pool.address(u), null, TLS_BACKEND_OPTIONS)
            : loop.thread.openStreamConnection(loop.pool.address(u), null, BACKEND_OPTIONS);
    future.addNotifier(
        new IoFuture.HandlingNotifier<StreamConnection, RelayBackend>() {
          @Override
          public void handleDone(StreamConnection connection, RelayBackend backend) {
            backend.connected(connection);
          }

          @Override
          public void handleFailed(IOException e, RelayBackend backend) {
            backend.connectFailed(e);
          }

          @Override
          public void handleCancelled(RelayBackend backend) {
            backend.connectFailed(new IOException("cancelled"));
          }
        },
        b);
  }

  /**
   * Response bytes from the backend, in {@code in} (read mode, the loop's scratch).
   *
   * @return false when the backend connection must not be read any further now
   */
  boolean response(RelayBackend b, ByteBuffer in) {
    ByteBuffer src = in;
    int from = in.position();
    boolean headOut = false;
    while (!b.headDone) {
      if (b.head != null) {
        b.head = append(b.head, src);
        src = b.head;
        from = src.position();
      }
      int end = Heads.headEnd(src, from, src.limit());
      if (end < 0) {
        if (b.head == null) {
          b.head = append(null, src);
        }
        if (b.head.remaining() > MAX_RESPONSE_HEAD) {
          backendFailed(b, "response head too large");
          return false;
        }
        return true;
      }
      if (!responseHead(b, src, from, end)) {
        backendFailed(b, "malformed response head");
        return false;
      }
      src.position(end);
      b.head = null;
      from = end;
      if (!b.headDone) {
        // an interim response (1xx): its final response follows
        if (!interim()) {
          b.source.suspendReads();
          return false;
        }
      } else {
        headOut = true;
      }
    }
    int to = src.limit();
    int taken;
    boolean done;
    switch (b.mode) {
      case BODY_NONE -> {
        taken = 0;
        done = true;
      }
      case BODY_LENGTH -> {
        taken = (int) Math.min(b.remaining, to - from);
        b.remaining -= taken;
        done = b.remaining == 0;
      }
      case BODY_CHUNKED -> {
        int r = b.chunked.scan(src, from, to, dechunked());
        if (r == -2) {
          backendFailed(b, "malformed chunked body");
          return false;
        }
        taken = r < 0 ? to - from : r - from;
        done = r >= 0;
      }
      default -> {
        taken = to - from;
        done = false;
      }
    }
    if (from + taken < to) {
      // more than the response: the connection is out of step
      b.reusable = false;
    }
    boolean flushed = body(b, src, from, from + taken, headOut, done);
    if (!busy || backend != b) {
      // the client went away while taking it
      return false;
    }
    if (done) {
      complete(b);
      return false;
    }
    if (!flushed) {
      b.source.suspendReads();
      return false;
    }
    return true;
  }

  /** Reads the response head in {@code [from, end)} and passes it to the subclass. */
  boolean responseHead(RelayBackend b, ByteBuffer src, int from, int end) {
    int lineEnd = Heads.indexOf(src, (byte) '\r', from, end);
    if (lineEnd - from < 12 || src.get(from + 8) != ' ') {
      return false;
    }
    boolean http11 = Heads.equalsLower(src, from, from + 8, HTTP_1_1_LOWER);
    if (!http11 && !Heads.equalsLower(src, from, from + 8, HTTP_1_0_LOWER)) {
      return false;
    }
    long code = Heads.decimal(src, from + 9, from + 12);
    if (code < 100 || code > 599 || code == 101) {
      return false;
    }
    headStatus = (int) code;
    statusLine(src, from, lineEnd);
    long length = -1;
    boolean chunked = false;
    boolean otherCoding = false;
    boolean keepAlive = http11;
    int line = lineEnd + 2;
    while (line < end - 2) {
      int eol = Heads.indexOf(src, (byte) '\r', line, end);
      if (eol < 0) {
        return false;
      }
      int colon = Heads.indexOf(src, (byte) ':', line, eol);
      if (colon <= line) {
        return false;
      }
      int v = Heads.skipBlanks(src, colon + 1, eol);
      int ve = Heads.trimBlanks(src, v, eol);
      boolean keep = true;
      switch (colon - line) {
        case 10 -> {
          if (Heads.equalsLower(src, line, colon, CONNECTION)) {
            if (Heads.hasToken(src, v, ve, CLOSE)) {
              keepAlive = false;
            } else if (Heads.hasToken(src, v, ve, KEEP_ALIVE)) {
              keepAlive = true;
            }
            keep = false;
          } else if (Heads.equalsLower(src, line, colon, KEEP_ALIVE)) {
            keep = false;
          }
        }
        case 12 -> keep = !Heads.equalsLower(src, line, colon, X_REQUEST_ID);
        case 14 -> {
          if (Heads.equalsLower(src, line, colon, CONTENT_LENGTH)) {
            long l = Heads.decimal(src, v, ve);
            if (l < 0 || (length >= 0 && l != length)) {
              return false;
            }
            length = l;
          }
        }
        case 16 -> keep = !Heads.equalsLower(src, line, colon, PROXY_CONNECTION);
        case 17 -> {
          if (Heads.equalsLower(src, line, colon, TRANSFER_ENCODING)) {
            if (Heads.hasToken(src, v, ve, CHUNKED)) {
              chunked = true;
            } else {
              otherCoding = true;
            }
          }
        }
        case 25 ->
            keep =
                st.hstsLine == null
                    || !Heads.equalsLower(src, line, colon, STRICT_TRANSPORT_SECURITY);
        default -> {}
      }
      if (keep
          && !dropped(src, line, colon, colon - line)
          && !header(src, line, colon, v, ve, eol)) {
        return false;
      }
      line = eol + 2;
    }
    if (headStatus < 200) {
      headDone(true);
      return true;
    }
    status = headStatus;
    headAt = relay.ticker.read();
    b.headDone = true;
    b.reusable = keepAlive;
    if (headRequest || status == 204 || status == 304) {
      b.mode = BODY_NONE;
    } else if (chunked && !otherCoding) {
      b.mode = BODY_CHUNKED;
      b.chunked.reset();
    } else if (otherCoding || length < 0) {
      b.mode = BODY_UNTIL_CLOSE;
      b.reusable = false;
      closeAfter = true;
    } else {
      b.mode = BODY_LENGTH;
      b.remaining = length;
    }
    headDone(false);
    responseStarted = true;
    return true;
  }

  /** The response of the request in flight is complete. */
  void complete(RelayBackend b) {
    long nanos = relay.ticker.read() - start;
    Upstream u = upstream;
    u.inFlight().decrementAndGet();
    relay.meters.answered(u, status, nanos);
    busy = false;
    backend = null;
    b.release();
    finished(nanos);
  }

  /**
   * The backend connection of the request in flight failed ({@code reason}): the request goes to
   * another backend when nothing of its response has reached the client.
   */
  void backendFailed(RelayBackend b, String reason) {
    boolean mine = busy && backend == b;
    boolean answered = b.headDone || b.head != null;
    // a kept-alive connection the backend had closed: once more on a new one, not its fault
    boolean fresh = mine && b.reused && !answered && !freshRetried && !responseStarted;
    // the new connection takes the old one's place in the pool, if it still holds it
    boolean place = fresh && !b.closed;
    b.keepsSlot = place;
    b.close();
    if (!mine) {
      return;
    }
    backend = null;
    Upstream u = upstream;
    if (fresh) {
      freshRetried = true;
      if (place) {
        connect(u);
      } else {
        connectOrWait(u);
      }
      return;
    }
    u.inFlight().decrementAndGet();
    relay.meters.failed(u, reason);
    if (responseStarted) {
      abort();
      return;
    }
    if (idempotent || !b.sent) {
      handBack();
      return;
    }
    answer(502);
  }

  /** The request timeout passed: 504, or the response cut off when it had started. */
  void timedOut() {
    RelayBackend b = backend;
    Upstream u = upstream;
    backend = null;
    if (b != null) {
      b.close();
    }
    if (u != null) {
      u.inFlight().decrementAndGet();
      relay.meters.answered(u, 504, relay.ticker.read() - start);
    }
    if (responseStarted) {
      abort();
      return;
    }
    answer(504);
  }

  /** The client went away: the backend connection of the request in flight is closed. */
  void cancel() {
    if (queued) {
      queued = false;
      if (loop.waiting(upstream).remove(this)) {
        loop.pool.slots(upstream).waiting.decrementAndGet();
      }
    }
    if (busy) {
      busy = false;
      RelayBackend b = backend;
      backend = null;
      if (b != null) {
        b.close();
      }
      if (upstream != null) {
        upstream.inFlight().decrementAndGet();
      }
    }
  }
}
