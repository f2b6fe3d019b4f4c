package com.foobar.lb;

import com.github.benmanes.caffeine.cache.Ticker;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/**
 * The backend connections of the lb's relays, one pool for the relays of all its listeners: a
 * connection one listener's request left idle serves the next request of either, and {@code
 * pool.max-connections} caps a backend's connections over both listeners and all IO threads, as
 * HAProxy's {@code maxconn} caps a server's.
 *
 * <p>Each IO thread has its {@link RelayLoop} (scratch buffers, idle connections, waiting
 * requests), used by that thread alone; each backend its {@link Slots}, shared by all threads.
 */
final class RelayPool {
  final LbMeters meters;
  final Ticker ticker;
  private final XnioWorker worker;
  private final RelayLoop[] loops;
  private final ConcurrentHashMap<Upstream, Slots> slots = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Upstream, InetSocketAddress> addresses =
      new ConcurrentHashMap<>();

  RelayPool(XnioWorker worker, LbMeters meters, Ticker ticker) {
    this.worker = worker;
    this.meters = meters;
    this.ticker = ticker;
    this.loops = new RelayLoop[worker.getIoThreadCount()];
  }

  /**
   * A backend's share of the pool: {@code pool.max-connections} caps {@link #open} over all IO
   * threads; {@link #waiting} counts the requests queued for one on any thread.
   */
  static final class Slots {
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger waiting = new AtomicInteger();

    /** Counts one more connection, unless {@code max} are open. */
    boolean reserve(int max) {
      while (true) {
        int n = open.get();
        if (n >= max) {
          return false;
        }
        if (open.compareAndSet(n, n + 1)) {
          return true;
        }
      }
    }
  }

  /** The loop of {@code thread}, which must be the calling thread. */
  RelayLoop loop(XnioIoThread thread) {
    assert Thread.currentThread() == thread : "the loop of " + thread + " used elsewhere";
    int n = thread.getNumber();
    RelayLoop loop = loops[n];
    if (loop == null) {
      // only this thread creates or reads its loop
      loop = new RelayLoop(this, thread);
      loops[n] = loop;
    }
    return loop;
  }

  Slots slots(Upstream u) {
    return slots.computeIfAbsent(u, x -> new Slots());
  }

  /** Runs {@code task} on each IO thread but {@code here}'s, with that thread's loop. */
  void elsewhere(RelayLoop here, Consumer<RelayLoop> task) {
    for (int i = 0; i < loops.length; i++) {
      if (i != here.thread.getNumber()) {
        XnioIoThread thread = worker.getIoThread(i);
        thread.execute(() -> task.accept(loop(thread)));
      }
    }
  }

  InetSocketAddress address(Upstream u) {
    return addresses.computeIfAbsent(
        u,
        x -> {
          URI url = x.url();
          int port = url.getPort() > 0 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
          return new InetSocketAddress(url.getHost(), port);
        });
  }
}
