package com.foobar.lb;

import static com.foobar.lb.H1Relay.ACCEPT;
import static com.foobar.lb.H1Relay.BUFFER;
import static com.foobar.lb.H1Relay.CLOSE;
import static com.foobar.lb.H1Relay.CONNECTION;
import static com.foobar.lb.H1Relay.CONNECTION_CLOSE_LINE;
import static com.foobar.lb.H1Relay.CONTENT_LENGTH;
import static com.foobar.lb.H1Relay.CRLF;
import static com.foobar.lb.H1Relay.EXPECT;
import static com.foobar.lb.H1Relay.HOST;
import static com.foobar.lb.H1Relay.HTTP_1_1;
import static com.foobar.lb.H1Relay.HTTP_1_1_LOWER;
import static com.foobar.lb.H1Relay.KEEP_ALIVE;
import static com.foobar.lb.H1Relay.PROXY_CONNECTION;
import static com.foobar.lb.H1Relay.TE;
import static com.foobar.lb.H1Relay.TRAILER;
import static com.foobar.lb.H1Relay.TRANSFER_ENCODING;
import static com.foobar.lb.H1Relay.UPGRADE;
import static com.foobar.lb.H1Relay.X_FORWARDED_FOR;
import static com.foobar.lb.H1Relay.X_FORWARDED_FOR_LINE;
import static com.foobar.lb.H1Relay.X_FORWARDED_HOST;
import static com.foobar.lb.H1Relay.X_FORWARDED_PORT;
import static com.foobar.lb.H1Relay.X_FORWARDED_PROTO;
import static com.foobar.lb.H1Relay.X_FORWARDED_SERVER;
import static com.foobar.lb.H1Relay.X_REQUEST_ID;
import static com.foobar.lb.H1Relay.X_REQUEST_ID_LINE;
import static com.foobar.lb.H1Relay.append;
import static com.foobar.lb.H1Relay.drain;
import static com.foobar.lb.H1Relay.method;

import com.foobar.core.HttpLimits;
import com.foobar.core.RateLimitHandler;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.util.HttpString;
import io.undertow.util.ImmediatePooledByteBuffer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;

/** A client connection served by the relay, and the request in flight on it. */
final class RelayClient extends RelayRequest {
  final StreamConnection connection;
  final ConduitStreamSourceChannel source;
  final ConduitStreamSinkChannel sink;
  final InetAddress peer;
  final String peerString;
  final byte[] peerText;
  boolean counted;
  boolean closed;
  long lastActive;

  /** RelayClient bytes read but not yet served (pipelined requests), read mode. */
  ByteBuffer pending;

  /** Response bytes the client has not taken yet, read mode. */
  ByteBuffer unsent;

  /**
   * Body bytes of the response in flight written (or queued) to the client, as nginx's {@code
   * $body_bytes_sent} and Undertow's count them.
   */
  long sent;

  /** The request in flight as the client sent it, for Undertow when the relay gives it back. */
  byte[] original;

  RelayClient(H1Relay relay, RelayLoop loop, StreamConnection connection, InetAddress peer) {
    super(relay, loop);
    this.connection = connection;
    this.source = connection.getSourceChannel();
    this.sink = connection.getSinkChannel();
    this.peer = peer;
    this.peerString = peer.getHostAddress();
    this.peerText = Heads.ascii(peerString);
  }

  void start() {
    loop.add(this);
    lastActive = relay.ticker.read();
    connection.setCloseListener(c -> closed());
    source.getReadSetter().set(ch -> readable());
    sink.getWriteSetter().set(ch -> writable());
    if (pending != null) {
      ByteBuffer p = pending;
      pending = null;
      serve(p, false);
      if (closed || index < 0) {
        return;
      }
    }
    source.resumeReads();
  }

  void readable() {
    ByteBuffer in = loop.in;
    while (!closed && index >= 0) {
      in.clear();
      int n;
      try {
        n = source.read(in);
      } catch (IOException e) {
        close();
        return;
      }
      if (n == 0) {
        return;
      }
      if (n < 0) {
        // HTTP/1.1 clients do not half-close while they wait for a response: a request in
        // flight is abandoned
        close();
        return;
      }
      in.flip();
      lastActive = relay.ticker.read();
      if (busy || pending != null) {
        pending = append(pending, in);
        if (pending.remaining() > BUFFER) {
          // a client that pipelines this much waits for its earlier responses
          source.suspendReads();
        }
        if (!busy) {
          ByteBuffer p = pending;
          pending = null;
          serve(p, false);
        }
      } else {
        serve(in, true);
      }
      if (n < BUFFER) {
        // the socket had no more: reading on would cost a syscall that finds nothing, and the
        // selector (or the TLS conduit, for bytes it holds decrypted) calls again when there is
        return;
      }
    }
  }

  /**
   * Serves the requests at the start of {@code data} (read mode), one at a time.
   *
   * @param scratch whether {@code data} is the loop's scratch buffer, which must not be kept
   */
  void serve(ByteBuffer data, boolean scratch) {
    st = relay.state;
    if (relay.tap.draining() || !st.settings.active()) {
      // Undertow's chain answers 503 and closes
      handOff(data);
      return;
    }
    int from = data.position();
    int to = data.limit();
    int end = Heads.headEnd(data, from, to);
    if (end < 0) {
      handOff(data);
      return;
    }
    if (!parseRequest(data, from, end)) {
      handOff(data);
      return;
    }
    int bodyEnd = end + (int) bodyLength;
    if (bodyEnd > to) {
      handOff(data);
      return;
    }
    // the request as the backend gets it: in loop.out, then copied for a retry
    ByteBuffer out = loop.out;
    out.flip();
    if (bodyEnd > end) {
      if (out.limit() + (bodyEnd - end) > out.capacity()) {
        handOff(data);
        return;
      }
      out.position(out.limit()).limit(out.capacity());
      Heads.copy(data, end, bodyEnd, out);
      out.flip();
    }
    original = new byte[bodyEnd - from];
    data.get(from, original);
    request = new byte[out.remaining()];
    out.get(out.position(), request);
    data.position(bodyEnd);
    if (data.hasRemaining()) {
      pending = scratch ? ByteBuffer.allocate(data.remaining()).put(data).flip() : data;
    } else {
      pending = null;
    }
    if (!counted) {
      counted = true;
      relay.tap.connectionOpened();
    }
    busy = true;
    begin();
    sent = 0;
    relay.tap.begin();
    if (st.settings.limiter().isPresent()) {
      long retryAfter = st.settings.limiter().get().admit(peer);
      if (retryAfter > 0) {
        tooMany(retryAfter);
        return;
      }
    }
    // the base of the retry budget, which Undertow's proxy spends on requests handed back
    st.route.budget().onRequest();
    dispatch(out, List.of());
  }

  long bodyLength;

  /**
   * Reads the head in {@code [from, end)} and writes the request the backend gets into loop.out
   * (write mode); false when Undertow should serve it.
   */
  boolean parseRequest(ByteBuffer b, int from, int end) {
    HttpLimits limits = relay.tap.limits();
    int maxUri = limits.maxUriLength().intBytes();
    int maxHeaderBytes = limits.maxHeaderSize().intBytes();
    int maxHeaders = limits.maxHeaders();
    // every kept line is copied to loop.out: a head that cannot fit goes to Undertow's chain
    if (end - from > maxHeaderBytes + maxUri + 64 || end - from > BUFFER) {
      return false;
    }
    int lineEnd = Heads.indexOf(b, (byte) '\r', from, end);
    int sp1 = Heads.indexOf(b, (byte) ' ', from, lineEnd);
    if (sp1 <= from) {
      return false;
    }
    int sp2 = Heads.indexOf(b, (byte) ' ', sp1 + 1, lineEnd);
    // Undertow's limit counts the path, the query and one more
    if (sp2 < 0 || sp2 - sp1 > maxUri || b.get(sp1 + 1) != '/') {
      return false;
    }
    if (!Heads.equalsLower(b, sp2 + 1, lineEnd, HTTP_1_1_LOWER)) {
      return false;
    }
    HttpString m = method(b, from, sp1);
    if (m == null) {
      return false;
    }
    setMethod(m);
    for (int i = sp1 + 1; i < sp2; i++) {
      int c = b.get(i);
      if (c <= ' ' || c >= 127) {
        return false;
      }
    }
    ByteBuffer out = loop.out;
    out.clear();
    Heads.copy(b, from, lineEnd + 2, out);
    int hostFrom = -1;
    int hostTo = -1;
    int xffFrom = -1;
    int xffTo = -1;
    long length = 0;
    boolean sawLength = false;
    json = false;
    closeAfter = false;
    int fields = 0;
    int line = lineEnd + 2;
    while (line < end - 2) {
      int eol = Heads.indexOf(b, (byte) '\r', line, end);
      if (eol < 0 || b.get(eol + 1) != '\n') {
        return false;
      }
      int colon = Heads.indexOf(b, (byte) ':', line, eol);
      if (colon <= line) {
        return false;
      }
      for (int i = line; i < colon; i++) {
        if (!Heads.tokenChar(b.get(i))) {
          return false;
        }
      }
      if (++fields > maxHeaders) {
        return false;
      }
      int v = Heads.skipBlanks(b, colon + 1, eol);
      int ve = Heads.trimBlanks(b, v, eol);
      boolean keep = true;
      switch (colon - line) {
        case 2 -> keep = !Heads.equalsLower(b, line, colon, TE);
        case 4 -> {
          if (Heads.equalsLower(b, line, colon, HOST)) {
            if (hostFrom >= 0 || v == ve) {
              return false;
            }
            hostFrom = v;
            hostTo = ve;
          }
        }
        case 6 -> {
          if (Heads.equalsLower(b, line, colon, EXPECT)) {
            return false;
          }
          if (Heads.equalsLower(b, line, colon, ACCEPT)) {
            json |= ErrorPages.wantsJson(Heads.string(b, v, ve));
          }
        }
        case 7 -> {
          if (Heads.equalsLower(b, line, colon, UPGRADE)) {
            return false;
          }
          keep = !Heads.equalsLower(b, line, colon, TRAILER);
        }
        case 10 -> {
          if (Heads.equalsLower(b, line, colon, CONNECTION)) {
            if (Heads.hasToken(b, v, ve, UPGRADE)) {
              return false;
            }
            closeAfter |= Heads.hasToken(b, v, ve, CLOSE);
            keep = false;
          } else if (Heads.equalsLower(b, line, colon, KEEP_ALIVE)) {
            keep = false;
          }
        }
        case 12 -> keep = !Heads.equalsLower(b, line, colon, X_REQUEST_ID);
        case 14 -> {
          if (Heads.equalsLower(b, line, colon, CONTENT_LENGTH)) {
            if (sawLength) {
              return false;
            }
            sawLength = true;
            length = Heads.decimal(b, v, ve);
            if (length < 0 || length > st.settings.maxBody()) {
              return false;
            }
          }
        }
        case 15 -> {
          if (Heads.equalsLower(b, line, colon, X_FORWARDED_FOR)) {
            if (xffFrom >= 0) {
              return false;
            }
            xffFrom = v;
            xffTo = ve;
            keep = false;
          }
        }
        case 16 ->
            keep =
                !Heads.equalsLower(b, line, colon, PROXY_CONNECTION)
                    && !Heads.equalsLower(b, line, colon, X_FORWARDED_HOST)
                    && !Heads.equalsLower(b, line, colon, X_FORWARDED_PORT);
        case 17 -> {
          if (Heads.equalsLower(b, line, colon, TRANSFER_ENCODING)) {
            return false;
          }
          keep = !Heads.equalsLower(b, line, colon, X_FORWARDED_PROTO);
        }
        case 18 -> keep = !Heads.equalsLower(b, line, colon, X_FORWARDED_SERVER);
        default -> {}
      }
      if (keep) {
        Heads.copy(b, line, eol + 2, out);
      }
      line = eol + 2;
    }
    // Undertow's limit counts "name: value\r\n" per field: at most one more byte than sent
    if (hostFrom < 0 || end - (lineEnd + 2) + fields > maxHeaderBytes) {
      return false;
    }
    bodyLength = length;
    // the lines added below repeat the Host value three times and the X-Forwarded-For value once
    int added = 3 * (hostTo - hostFrom) + Math.max(0, xffTo - xffFrom) + 256;
    if (out.remaining() < added) {
      return false;
    }
    // X-Forwarded-For: what came, then the peer (Undertow's proxy does the same)
    out.put(X_FORWARDED_FOR_LINE);
    if (xffFrom >= 0 && xffTo > xffFrom) {
      Heads.copy(b, xffFrom, xffTo, out);
      out.put((byte) ',');
    }
    out.put(peerText).put(CRLF);
    relay.forwarded(out, b, hostFrom, hostTo);
    requestId = RequestIds.next();
    out.put(X_REQUEST_ID_LINE).put(requestId.getBytes(StandardCharsets.ISO_8859_1)).put(CRLF);
    out.put(CRLF);
    return true;
  }

  @Override
  void statusLine(ByteBuffer src, int from, int lineEnd) {
    ByteBuffer out = loop.out;
    out.clear();
    out.put(HTTP_1_1);
    Heads.copy(src, from + 8, lineEnd + 2, out);
  }

  @Override
  boolean dropped(ByteBuffer src, int line, int colon, int length) {
    return false;
  }

  @Override
  boolean header(ByteBuffer src, int line, int colon, int v, int ve, int eol) {
    ByteBuffer out = loop.out;
    if (out.remaining() < eol + 2 - line + 512) {
      return false;
    }
    Heads.copy(src, line, eol + 2, out);
    return true;
  }

  @Override
  void headDone(boolean interim) {
    ByteBuffer out = loop.out;
    if (!interim) {
      if (st.hstsLine != null) {
        out.put(st.hstsLine);
      }
      out.put(X_REQUEST_ID_LINE).put(requestId.getBytes(StandardCharsets.ISO_8859_1)).put(CRLF);
      if (closeAfter || relay.tap.draining()) {
        closeAfter = true;
        out.put(CONNECTION_CLOSE_LINE);
      }
    }
    out.put(CRLF).flip();
  }

  @Override
  boolean interim() {
    return write(loop.out);
  }

  @Override
  Heads.Data dechunked() {
    return null;
  }

  @Override
  boolean body(RelayBackend b, ByteBuffer src, int from, int to, boolean headOut, boolean done) {
    sent += to - from;
    ByteBuffer out = loop.out;
    boolean flushed = true;
    if (headOut && out.limit() + (to - from) <= out.capacity()) {
      // head and body in one write
      out.position(out.limit()).limit(out.capacity());
      Heads.copy(src, from, to, out);
      out.flip();
      flushed = write(out);
    } else {
      if (headOut) {
        flushed = write(out);
      }
      if (to > from && !closed) {
        ByteBuffer body = src.duplicate();
        body.limit(to).position(from);
        flushed = write(body);
      }
    }
    return flushed;
  }

  @Override
  void finished(long nanos) {
    ended(status, nanos);
    lastActive = relay.ticker.read();
    if (closeAfter) {
      if (unsent == null) {
        close();
      }
      return;
    }
    if (unsent != null) {
      // the rest waits for the client to take the response
      return;
    }
    next();
  }

  /** The request in flight ended with {@code code} sent (0: none): its timer and access line. */
  void ended(int code, long nanos) {
    relay.tap.end(method, code, nanos);
    if (relay.tap.logsAccess()) {
      relay.tap.access(
          new RelayLine(
              System.currentTimeMillis(),
              peerString,
              method.toString(),
              original,
              code,
              sent,
              nanos,
              requestId,
              backend(),
              backendNanos(),
              attempts));
    }
  }

  @Override
  void abort() {
    ended(status, relay.ticker.read() - start);
    busy = false;
    close();
  }

  /** Gives the connection to Undertow with the request in flight and what follows it. */
  @Override
  void handBack() {
    busy = false;
    relay.tap.cancel();
    // Undertow's chain takes a token for the request again
    st.settings.limiter().ifPresent(l -> l.refund(peer));
    ByteBuffer bytes = ByteBuffer.wrap(original);
    if (pending != null) {
      bytes = append(append(null, bytes), pending);
      pending = null;
    }
    handOff(bytes);
  }

  /** Gives the connection with the unserved bytes {@code data} to Undertow's chain. */
  void handOff(ByteBuffer data) {
    if (closed) {
      return;
    }
    loop.remove(this);
    if (counted) {
      counted = false;
      relay.tap.connectionClosed();
    }
    source.getReadSetter().set(null);
    sink.getWriteSetter().set(null);
    // XNIO adds close listeners up, it cannot take ours off: it ignores the close from now on
    closed = true;
    relay.handoffs.increment();
    PooledByteBuffer extra = null;
    if (data != null && data.hasRemaining()) {
      extra =
          new ImmediatePooledByteBuffer(
              ByteBuffer.allocateDirect(data.remaining()).put(data).flip());
    }
    relay.toUndertow(connection, extra);
  }

  /** Serves a pipelined request, if one came while the last was in flight. */
  void next() {
    if (pending != null && !busy && !closed) {
      ByteBuffer p = pending;
      pending = null;
      source.resumeReads();
      serve(p, false);
    }
  }

  /** Answers the request in flight with the lb's own page for {@code code} and closes. */
  @Override
  void answer(int code) {
    ErrorPages.Page page = ErrorPages.of(code, json).orElseThrow();
    closeAfter = true;
    responseStarted = true;
    respond(
        code,
        switch (code) {
          case 503 -> "Service Unavailable";
          case 504 -> "Gateway Timeout";
          default -> "Bad Gateway";
        },
        "Content-Type: "
            + page.contentType()
            + "\r\nCache-Control: no-store\r\nX-Request-Id: "
            + requestId
            + "\r\n"
            + (st.hstsLine == null ? "" : new String(st.hstsLine, StandardCharsets.ISO_8859_1)),
        page.body().getBytes(StandardCharsets.UTF_8));
  }

  /** Answers 429 as the rate limit of Undertow's chain does; the connection goes on. */
  void tooMany(long retryAfter) {
    respond(
        429,
        "Too Many Requests",
        "Retry-After: " + retryAfter + "\r\nContent-Type: application/json\r\n",
        Heads.ascii(RateLimitHandler.body(retryAfter)));
  }

  /**
   * Ends the request in flight with a response of the lb's own ({@code headers}: whole lines; no
   * body for HEAD), then goes on with the connection, or closes it after {@code closeAfter}.
   */
  void respond(int code, String reason, String headers, byte[] body) {
    byte[] head =
        Heads.ascii(
            "HTTP/1.1 "
                + code
                + " "
                + reason
                + "\r\n"
                + headers
                + "Content-Length: "
                + body.length
                + (closeAfter ? "\r\nConnection: close" : "")
                + "\r\n\r\n");
    ByteBuffer bytes = ByteBuffer.allocate(head.length + (headRequest ? 0 : body.length));
    bytes.put(head);
    if (!headRequest) {
      bytes.put(body);
    }
    bytes.flip();
    status = code;
    sent = headRequest ? 0 : body.length;
    busy = false;
    boolean flushed = write(bytes);
    ended(code, relay.ticker.read() - start);
    if (closed) {
      return;
    }
    if (closeAfter) {
      if (flushed) {
        close();
      }
      return;
    }
    if (flushed) {
      next();
    }
  }

  @Override
  void sweep(long now) {
    if (closed) {
      return;
    }
    if (busy) {
      if (!queued && now - start > st.settings.requestTimeoutNanos()) {
        timedOut();
      }
    } else if (unsent == null && now - lastActive > relay.tap.limits().idleTimeout().toNanos()) {
      close();
    }
  }

  /** Writes {@code b} to the client, queueing what the socket does not take. */
  boolean write(ByteBuffer b) {
    if (unsent != null) {
      return queue(b);
    }
    try {
      while (b.hasRemaining()) {
        if (sink.write(b) == 0) {
          break;
        }
      }
      if (!b.hasRemaining() && sink.flush()) {
        return true;
      }
    } catch (IOException e) {
      close();
      return false;
    }
    return queue(b);
  }

  boolean queue(ByteBuffer b) {
    if (b.hasRemaining()) {
      unsent = append(unsent, b);
    }
    if (unsent == null) {
      // only a flush was pending
      unsent = ByteBuffer.allocate(0);
    }
    sink.resumeWrites();
    return false;
  }

  void writable() {
    try {
      if (!drain(unsent, sink)) {
        return;
      }
    } catch (IOException e) {
      close();
      return;
    }
    unsent = null;
    sink.suspendWrites();
    if (busy && backend != null) {
      backend.source.resumeReads();
      return;
    }
    if (closeAfter) {
      close();
      return;
    }
    next();
  }

  void close() {
    if (!closed && unsent == null) {
      // end the stream first: on TLS that sends close_notify, without which the client takes the
      // close as truncation and will not resume the session on its next connection
      try {
        sink.shutdownWrites();
        sink.flush();
      } catch (IOException e) {
        // closing anyway
      }
    }
    IoUtils.safeClose(connection);
    closed();
  }

  /** The connection closed, by either side. */
  void closed() {
    if (closed) {
      return;
    }
    closed = true;
    loop.remove(this);
    if (counted) {
      counted = false;
      relay.tap.connectionClosed();
    }
    boolean inFlight = busy;
    cancel();
    if (inFlight) {
      ended(status, relay.ticker.read() - start);
    }
    pending = null;
    unsent = null;
  }
}
