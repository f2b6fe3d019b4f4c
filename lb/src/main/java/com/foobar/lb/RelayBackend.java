package com.foobar.lb;

import static com.foobar.lb.H1Relay.BODY_UNTIL_CLOSE;
import static com.foobar.lb.H1Relay.BUFFER;
import static com.foobar.lb.H1Relay.append;
import static com.foobar.lb.H1Relay.drain;
import static com.foobar.lb.H1Relay.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;

/** A connection to a backend: idle in its loop's pool, or serving one client's request. */
final class RelayBackend {
  final RelayPool pool;
  final RelayLoop loop;
  final Upstream upstream;
  StreamConnection connection;
  ConduitStreamSourceChannel source;
  ConduitStreamSinkChannel sink;
  RelayRequest owner;
  boolean reused;
  boolean sent;
  boolean closed;

  /** Its place in the pool goes to the connection that replaces it, not back when it closes. */
  boolean keepsSlot;

  long idleSince;

  /** RelayRequest bytes the backend has not taken yet, read mode. */
  ByteBuffer unsent;

  // the response in flight
  boolean headDone;
  ByteBuffer head;
  int mode;
  long remaining;
  boolean reusable;
  final Heads.Chunked chunked = new Heads.Chunked();

  RelayBackend(RelayLoop loop, Upstream upstream) {
    this.pool = loop.pool;
    this.loop = loop;
    this.upstream = upstream;
  }

  void attach(RelayRequest client, boolean reused) {
    owner = client;
    client.backend = this;
    this.reused = reused;
    sent = false;
    headDone = false;
    head = null;
    reusable = true;
  }

  void connected(StreamConnection c) {
    connection = c;
    source = c.getSourceChannel();
    sink = c.getSinkChannel();
    c.setCloseListener(x -> closed());
    source.getReadSetter().set(ch -> readable());
    sink.getWriteSetter().set(ch -> writable());
    source.resumeReads();
    if (closed) {
      IoUtils.safeClose(c);
      return;
    }
    if (owner != null) {
      send(ByteBuffer.wrap(owner.request));
    } else {
      release();
    }
  }

  void connectFailed(IOException e) {
    if (closed) {
      return;
    }
    closed = true;
    pool.slots(upstream).open.decrementAndGet();
    loop.slotFreed(upstream);
    RelayRequest c = owner;
    owner = null;
    if (c == null || c.backend != this || !c.busy) {
      return;
    }
    c.backend = null;
    Upstream u = upstream;
    u.inFlight().decrementAndGet();
    pool.meters.failed(u, "connect failed");
    log.atDebug()
        .addKeyValue("event", "lb.relay.connect_failed")
        .addKeyValue("backend", u.name())
        .log("connect to {} failed: {}", u.name(), e.toString());
    // Undertow's proxy retries it on another backend, or answers 502
    c.handBack();
  }

  void send(ByteBuffer bytes) {
    sent = true;
    try {
      while (bytes.hasRemaining()) {
        if (sink.write(bytes) == 0) {
          break;
        }
      }
      if (!bytes.hasRemaining() && sink.flush()) {
        return;
      }
    } catch (IOException e) {
      failed("write failed: " + e.getMessage());
      return;
    }
    unsent = bytes.hasRemaining() ? append(null, bytes) : ByteBuffer.allocate(0);
    sink.resumeWrites();
  }

  void writable() {
    try {
      if (!drain(unsent, sink)) {
        return;
      }
    } catch (IOException e) {
      failed("write failed: " + e.getMessage());
      return;
    }
    unsent = null;
    sink.suspendWrites();
  }

  void readable() {
    ByteBuffer in = loop.in;
    while (!closed) {
      in.clear();
      int n;
      try {
        n = source.read(in);
      } catch (IOException e) {
        failed("read failed: " + e.getMessage());
        return;
      }
      if (n == 0) {
        return;
      }
      if (n < 0) {
        ended();
        return;
      }
      in.flip();
      RelayRequest c = owner;
      if (c == null) {
        // an idle connection has nothing to say
        close();
        return;
      }
      if (!c.response(this, in) || n < BUFFER) {
        return;
      }
    }
  }

  /** The backend closed the connection. */
  void ended() {
    RelayRequest c = owner;
    if (c != null && headDone && mode == BODY_UNTIL_CLOSE) {
      reusable = false;
      c.complete(this);
      return;
    }
    failed("closed by the backend");
  }

  void failed(String reason) {
    RelayRequest c = owner;
    if (c != null) {
      c.backendFailed(this, reason);
    } else {
      close();
    }
  }

  /** To a request waiting for it, or back to the pool when it can serve another, else closed. */
  void release() {
    owner = null;
    if (!reusable || closed || unsent != null || !connection.isOpen()) {
      close();
      return;
    }
    RelayRequest waiter = loop.nextWaiting(upstream);
    if (waiter != null) {
      attach(waiter, true);
      send(ByteBuffer.wrap(waiter.request));
      return;
    }
    if (pool.slots(upstream).waiting.get() > 0) {
      // a request waits on another IO thread: the slot goes there
      close();
      return;
    }
    idleSince = pool.ticker.read();
    source.resumeReads();
    loop.idle.computeIfAbsent(upstream, x -> new ArrayDeque<>()).addLast(this);
  }

  void close() {
    owner = null;
    if (connection != null) {
      IoUtils.safeClose(connection);
    }
    closed();
  }

  void closed() {
    if (closed) {
      return;
    }
    closed = true;
    if (!keepsSlot) {
      pool.slots(upstream).open.decrementAndGet();
    }
    ArrayDeque<RelayBackend> q = loop.idle.get(upstream);
    if (q != null) {
      q.remove(this);
    }
    RelayRequest c = owner;
    owner = null;
    if (c != null && c.backend == this) {
      c.backendFailed(this, "connection closed");
    }
    if (!keepsSlot) {
      loop.slotFreed(upstream);
    }
  }
}
