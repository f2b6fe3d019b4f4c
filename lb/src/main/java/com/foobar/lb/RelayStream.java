package com.foobar.lb;

import static com.foobar.lb.H1Relay.BODY_CHUNKED;
import static com.foobar.lb.H1Relay.COLON_SPACE;
import static com.foobar.lb.H1Relay.CRLF;
import static com.foobar.lb.H1Relay.REQUEST_LINE_END;
import static com.foobar.lb.H1Relay.STREAM_DROPPED;
import static com.foobar.lb.H1Relay.TRANSFER_ENCODING;
import static com.foobar.lb.H1Relay.UPGRADE;
import static com.foobar.lb.H1Relay.X_FORWARDED_FOR_LINE;
import static com.foobar.lb.H1Relay.append;
import static com.foobar.lb.H1Relay.drain;
import static com.foobar.lb.H1Relay.latin1;
import static com.foobar.lb.H1Relay.visibleAscii;

import com.foobar.core.AccessEntry;
import io.undertow.protocols.http2.Http2Channel;
import io.undertow.server.Connectors;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;

/**
 * An HTTP/2 stream of Undertow's HTTPS listener, relayed as a client connection's request is: its
 * head, as Undertow decoded it, goes as an HTTP/1.1 request over a pooled backend connection, and
 * the backend's response comes back through the exchange (its header fields into Undertow's map,
 * its body without chunked framing into the response channel). All of it happens on the stream's IO
 * thread. Undertow's proxy serves the stream instead when its backend failed before answering (see
 * {@link H1Relay#stream}).
 */
final class RelayStream extends RelayRequest implements Heads.Data {
  final HttpServerExchange exchange;
  final HttpHandler proxy;

  /**
   * The HTTP/2 connection the stream belongs to, whose frames {@link RelayLoop#batch} holds back.
   */
  final Http2Channel connection;

  StreamSinkChannel channel;

  /** The response's header fields, name and value in turn, until its head is whole. */
  final ArrayList<Object> fields = new ArrayList<>();

  /** Body bytes the response channel has not taken yet, read mode. */
  ByteBuffer unsent;

  /** The response is whole: the exchange ends once {@link #unsent} is written. */
  boolean ending;

  RelayStream(H1Relay relay, RelayLoop loop, HttpServerExchange exchange, HttpHandler proxy) {
    super(relay, loop);
    this.exchange = exchange;
    this.proxy = proxy;
    this.connection = Http2Requests.connection(exchange);
  }

  void start() {
    st = relay.state;
    setMethod(exchange.getRequestMethod());
    if (!writeRequest()) {
      proxy();
      return;
    }
    ByteBuffer out = loop.out;
    request = new byte[out.remaining()];
    out.get(out.position(), request);
    busy = true;
    begin();
    exchange.putAttachment(AccessEntry.PROXIED, this);
    loop.add(this);
    relay.streams.increment();
    // the base of the retry budget, which Undertow's proxy spends on requests handed back
    st.route.budget().onRequest();
    dispatch(out, List.of());
  }

  /**
   * Writes the request the backend gets into loop.out (read mode); false when Undertow's proxy
   * should serve it: a head that does not fit, or one that would not be a valid HTTP/1.1 head as it
   * is (bytes outside ASCII in the target, CR, LF or NUL in a field, which Undertow's own checks of
   * HTTP/2 requests already refuse).
   */
  boolean writeRequest() {
    HeaderMap headers = exchange.getRequestHeaders();
    // the target as sent (Undertow took the :path pseudo-header apart and out of the map)
    String path = exchange.getRequestURI();
    String query = exchange.getQueryString();
    if (path.isEmpty() || path.charAt(0) != '/' || !headers.contains(Headers.HOST)) {
      return false;
    }
    ByteBuffer out = loop.out;
    out.clear();
    try {
      for (int i = 0; i < method.length(); i++) {
        if (!Heads.tokenChar(method.byteAt(i))) {
          return false;
        }
      }
      method.appendTo(out);
      out.put((byte) ' ');
      if (!visibleAscii(path, out)) {
        return false;
      }
      if (!query.isEmpty()) {
        out.put((byte) '?');
        if (!visibleAscii(query, out)) {
          return false;
        }
      }
      out.put(REQUEST_LINE_END);
      String xff = null;
      int hostFrom = -1;
      int hostTo = -1;
      for (HeaderValues values : headers) {
        HttpString name = values.getHeaderName();
        if (name.byteAt(0) == ':' || STREAM_DROPPED.contains(name)) {
          continue;
        }
        if (name.equals(Headers.X_FORWARDED_FOR)) {
          xff = String.join(",", values);
          continue;
        }
        for (String value : values) {
          name.appendTo(out);
          out.put(COLON_SPACE);
          int from = out.position();
          if (!latin1(value, out)) {
            return false;
          }
          if (name.equals(Headers.HOST)) {
            hostFrom = from;
            hostTo = out.position();
          }
          out.put(CRLF);
        }
      }
      if (hostFrom < 0 || hostTo == hostFrom) {
        return false;
      }
      out.put(X_FORWARDED_FOR_LINE);
      if (xff != null && !xff.isEmpty()) {
        if (!latin1(xff, out)) {
          return false;
        }
        out.put((byte) ',');
      }
      out.put(Heads.ascii(exchange.getSourceAddress().getAddress().getHostAddress()));
      out.put(CRLF);
      relay.forwarded(out, out, hostFrom, hostTo);
      out.put(CRLF);
    } catch (BufferOverflowException e) {
      // a head this large is rare: Undertow's client writes it
      return false;
    }
    out.flip();
    return true;
  }

  /** Undertow's proxy takes the stream, from the start. */
  void proxy() {
    Connectors.executeRootHandler(proxy, exchange);
  }

  @Override
  void handBack() {
    busy = false;
    loop.remove(this);
    proxy();
  }

  @Override
  void answer(int code) {
    busy = false;
    loop.remove(this);
    responseStarted = true;
    status = code;
    // the lb's error page comes from the front handler's response listener
    exchange.setStatusCode(code);
    exchange.endExchange();
  }

  @Override
  void abort() {
    busy = false;
    loop.remove(this);
    // resets the stream (RST_STREAM CANCEL), not the connection
    IoUtils.safeClose(exchange.getConnection());
  }

  @Override
  void sweep(long now) {
    if (!busy) {
      return;
    }
    if (!queued && now - start > st.settings.requestTimeoutNanos()) {
      timedOut();
    } else if (!exchange.getConnection().isOpen()) {
      cancel();
      loop.remove(this);
    }
  }

  @Override
  void statusLine(ByteBuffer src, int from, int lineEnd) {
    fields.clear();
  }

  @Override
  boolean dropped(ByteBuffer src, int line, int colon, int length) {
    // connection-specific fields are not allowed in HTTP/2 (RFC 9113, 8.2.2)
    return (length == 17 && Heads.equalsLower(src, line, colon, TRANSFER_ENCODING))
        || (length == 7 && Heads.equalsLower(src, line, colon, UPGRADE));
  }

  @Override
  boolean header(ByteBuffer src, int line, int colon, int v, int ve, int eol) {
    if (headStatus >= 200) {
      fields.add(loop.name(src, line, colon));
      fields.add(Heads.string(src, v, ve));
    }
    return true;
  }

  @Override
  void headDone(boolean interim) {
    if (interim) {
      // HTTP/2 clients get the final response only
      return;
    }
    HeaderMap headers = exchange.getResponseHeaders();
    for (int i = 0; i < fields.size(); i += 2) {
      headers.add((HttpString) fields.get(i), (String) fields.get(i + 1));
    }
    fields.clear();
    exchange.setStatusCode(status);
  }

  @Override
  boolean interim() {
    return true;
  }

  @Override
  Heads.Data dechunked() {
    return this;
  }

  @Override
  boolean body(RelayBackend b, ByteBuffer src, int from, int to, boolean headOut, boolean done) {
    if (b.mode != BODY_CHUNKED && to > from) {
      data(src, from, to);
    }
    if (!busy) {
      return false;
    }
    if (unsent != null) {
      return false;
    }
    if (!done) {
      // what came so far goes on now, not when Undertow's frame buffer is full
      try {
        if (channel != null && !channel.flush()) {
          unsent = ByteBuffer.allocate(0);
          channel.resumeWrites();
          return false;
        }
      } catch (IOException e) {
        clientFailed();
        return false;
      }
    }
    return true;
  }

  /** Body data for the response channel; what it does not take waits in {@link #unsent}. */
  @Override
  public void data(ByteBuffer src, int from, int to) {
    if (!busy) {
      return;
    }
    if (channel == null) {
      channel = exchange.getResponseChannel();
      channel.getWriteSetter().set(ch -> writable());
    }
    // the head and this data wait for the end of the turn too, else they go out at once
    loop.batch(connection);
    int position = src.position();
    int limit = src.limit();
    src.limit(to).position(from);
    try {
      if (unsent == null) {
        while (src.hasRemaining()) {
          if (channel.write(src) == 0) {
            break;
          }
        }
      }
      if (src.hasRemaining()) {
        unsent = append(unsent, src);
        channel.resumeWrites();
      }
    } catch (IOException e) {
      clientFailed();
    } finally {
      src.limit(limit).position(position);
    }
  }

  void writable() {
    try {
      if (!drain(unsent, channel)) {
        return;
      }
    } catch (IOException e) {
      clientFailed();
      return;
    }
    unsent = null;
    channel.suspendWrites();
    if (ending) {
      end();
    } else if (busy && backend != null) {
      backend.source.resumeReads();
    }
  }

  /** The client's stream or connection failed while the response was being written. */
  void clientFailed() {
    cancel();
    ending = false;
    unsent = null;
    loop.remove(this);
    IoUtils.safeClose(exchange.getConnection());
  }

  @Override
  void finished(long nanos) {
    loop.remove(this);
    if (unsent == null) {
      end();
    } else {
      ending = true;
    }
  }

  /** Ends the exchange; its last frames go out with the connection's others of this turn. */
  void end() {
    loop.batch(connection);
    exchange.endExchange();
  }
}
