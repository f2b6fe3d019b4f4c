package com.foobar.lb;

import static com.foobar.lb.H1Relay.BUFFER;
import static com.foobar.lb.H1Relay.POOLED_TTL_NANOS;
import static com.foobar.lb.H1Relay.SWEEP_MILLIS;

import io.undertow.protocols.http2.Http2Channel;
import io.undertow.util.HttpString;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.concurrent.TimeUnit;
import org.xnio.XnioIoThread;

/**
 * One IO thread's scratch buffers, idle backend connections, and requests: relayed client
 * connections for their whole life, HTTP/2 streams while they wait for their response.
 */
final class RelayLoop implements Runnable {
  final RelayPool pool;
  final XnioIoThread thread;
  final ByteBuffer in = ByteBuffer.allocateDirect(BUFFER);
  final ByteBuffer out = ByteBuffer.allocateDirect(BUFFER);
  final IdentityHashMap<Upstream, ArrayDeque<RelayBackend>> idle = new IdentityHashMap<>();
  final IdentityHashMap<Upstream, ArrayDeque<RelayRequest>> waiting = new IdentityHashMap<>();
  final ArrayList<RelayRequest> requests = new ArrayList<>();
  final ArrayList<Http2Channel> batched = new ArrayList<>();
  final Runnable flushes = this::flush;

  /**
   * The field names of backends' response heads as Undertow's {@code HttpString}s, by their bytes
   * (as the backend spelled them), for the heads relayed to HTTP/2 streams: a backend sends the
   * same few names in every response, and a hit costs no String, no copy and no map lookup. A slot
   * holds the last name that hashed to it.
   */
  private final HttpString[] names = new HttpString[64];

  RelayLoop(RelayPool pool, XnioIoThread thread) {
    this.pool = pool;
    this.thread = thread;
    thread.executeAtInterval(this, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** The field name in {@code [from, to)} of {@code src}. */
  HttpString name(ByteBuffer src, int from, int to) {
    int h = 0;
    for (int i = from; i < to; i++) {
      h = 31 * h + src.get(i);
    }
    int slot = (h ^ (h >>> 16)) & (names.length - 1);
    HttpString cached = names[slot];
    if (cached != null && cached.length() == to - from) {
      int i = 0;
      while (i < to - from && cached.byteAt(i) == src.get(from + i)) {
        i++;
      }
      if (i == to - from) {
        return cached;
      }
    }
    HttpString name = HttpString.tryFromString(Heads.string(src, from, to));
    names[slot] = name;
    return name;
  }

  RelayBackend takeIdle(Upstream u) {
    ArrayDeque<RelayBackend> q = idle.get(u);
    while (q != null && !q.isEmpty()) {
      RelayBackend b = q.pollLast();
      if (b.connection.isOpen()) {
        return b;
      }
      b.close();
    }
    return null;
  }

  ArrayDeque<RelayRequest> waiting(Upstream u) {
    return waiting.computeIfAbsent(u, x -> new ArrayDeque<>());
  }

  /** The next request waiting here for a connection to {@code u}, no longer queued; or null. */
  RelayRequest nextWaiting(Upstream u) {
    ArrayDeque<RelayRequest> q = waiting.get(u);
    RelayRequest c = q == null ? null : q.pollFirst();
    if (c != null) {
      c.queued = false;
      pool.slots(u).waiting.decrementAndGet();
    }
    return c;
  }

  /**
   * A connection to {@code u} of this thread closed: a request waiting here opens a new one; with
   * none waiting here, one waiting on another thread may.
   */
  void slotFreed(Upstream u) {
    ArrayDeque<RelayRequest> q = waiting.get(u);
    if (q != null && !q.isEmpty()) {
      wake(u);
    } else if (pool.slots(u).waiting.get() > 0) {
      pool.elsewhere(this, l -> l.wake(u));
    }
  }

  /** The first request waiting here for {@code u} opens a connection, if the cap allows one. */
  void wake(Upstream u) {
    ArrayDeque<RelayRequest> q = waiting.get(u);
    // the cap as the relay of the first waiting request has it (a reload gives both relays the
    // same)
    if (q != null
        && !q.isEmpty()
        && pool.slots(u).reserve(q.peekFirst().st.settings.maxConnections())) {
      nextWaiting(u).connect(u);
    }
  }

  /**
   * Holds back {@code connection}'s frames until the end of this turn of the IO thread's loop, when
   * {@link #flush} sends them with those of every other stream that ended in the same turn: one TLS
   * record and one write for many responses, where Undertow would write each stream's frames as it
   * ends. Undertow's own frames on the connection (its settings, pings, window updates, the proxy's
   * responses) wait for the same flush.
   */
  void batch(Http2Channel connection) {
    if (!connection.isRequireExplicitFlush()) {
      connection.setRequireExplicitFlush(true);
      batched.add(connection);
      if (batched.size() == 1) {
        thread.execute(flushes);
      }
    }
  }

  /** Sends what the connections of {@link #batch} hold back. */
  void flush() {
    for (int i = 0; i < batched.size(); i++) {
      Http2Channel connection = batched.get(i);
      connection.setRequireExplicitFlush(false);
      connection.flush();
    }
    batched.clear();
  }

  /** Closes an idle connection to {@code u}, when a request waits for one on another thread. */
  void shedIdle(Upstream u) {
    ArrayDeque<RelayBackend> q = idle.get(u);
    if (q != null && !q.isEmpty() && pool.slots(u).waiting.get() > 0) {
      // its close frees the slot for the waiting thread (slotFreed)
      q.pollFirst().close();
    }
  }

  void add(RelayRequest c) {
    c.index = requests.size();
    requests.add(c);
  }

  void remove(RelayRequest c) {
    int i = c.index;
    if (i < 0) {
      return;
    }
    RelayRequest last = requests.remove(requests.size() - 1);
    if (last != c) {
      requests.set(i, last);
      last.index = i;
    }
    c.index = -1;
  }

  /** Timeouts: requests past the request timeout, idle requests, idle backend connections. */
  @Override
  public void run() {
    long now = pool.ticker.read();
    for (int i = requests.size() - 1; i >= 0; i--) {
      if (i < requests.size()) {
        requests.get(i).sweep(now);
      }
    }
    for (var e : waiting.entrySet()) {
      ArrayDeque<RelayRequest> q = e.getValue();
      while (!q.isEmpty()
          && now - q.peekFirst().queuedSince > q.peekFirst().st.settings.queueTimeoutNanos()) {
        RelayRequest c = nextWaiting(e.getKey());
        c.upstream.inFlight().decrementAndGet();
        c.answer(503);
      }
    }
    for (ArrayDeque<RelayBackend> q : idle.values()) {
      while (!q.isEmpty() && now - q.peekFirst().idleSince > POOLED_TTL_NANOS) {
        q.pollFirst().close();
      }
    }
  }
}
