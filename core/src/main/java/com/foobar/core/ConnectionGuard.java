package com.foobar.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.Option;
import org.xnio.StreamConnection;

/**
 * Caps the open connections of a listener, all together and per socket peer, at accept time: before
 * TLS and before any byte of a request is read. A connection over a cap is closed at once and
 * counted in {@code foobar.connections.refused{listener,reason=total|per_ip}}; {@code
 * foobar.connections.open{listener}} shows the connections held. Connections are counted, not
 * requests: a keep-alive HTTP/1.1 connection or an HTTP/2 connection with many streams is one.
 *
 * <p>The per-IP cap is by socket peer, so a trusted proxy (or load balancer in front) would hit it
 * for all its clients: peers in {@code exempt} are held to the total cap only.
 *
 * <p>It sits between the accepting socket and the listener's open listener (see {@link #wrap}).
 * Undertow claims a connection's single close listener for itself, so the guard hands Undertow a
 * thin wrapper of the accepted connection and keeps the close listener of the real one: a slot is
 * freed however the connection ends (closed by either side, reset, timed out).
 */
public final class ConnectionGuard {
  private final int maxTotal;
  private final int maxPerIp;
  private final Cidr[] exempt;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, AtomicInteger> perIp = new ConcurrentHashMap<>();
  private final Counter refusedTotal;
  private final Counter refusedPerIp;

  private ConnectionGuard(
      int maxTotal, int maxPerIp, List<Cidr> exempt, MeterRegistry registry, String listener) {
    if (maxTotal < 1 || maxPerIp < 1) {
      throw new IllegalArgumentException(
          "connection caps must be at least 1, got max-connections "
              + maxTotal
              + " and max-connections-per-ip "
              + maxPerIp);
    }
    this.maxTotal = maxTotal;
    this.maxPerIp = maxPerIp;
    this.exempt = exempt.toArray(Cidr[]::new);
    this.refusedTotal = refused(registry, listener, "total");
    this.refusedPerIp = refused(registry, listener, "per_ip");
    Gauge.builder("foobar.connections.open", open, AtomicInteger::get)
        .description("Connections accepted and not yet closed, counted at accept time")
        .tag("listener", listener)
        .register(registry);
  }

  /**
   * A guard for one listener.
   *
   * @param maxConnections open connections of all peers together, at least 1
   * @param maxConnectionsPerIp open connections of one socket peer, at least 1
   * @param exemptFromPerIp peers held to the total cap only (the listener's trusted proxies)
   * @param listener the {@code listener} tag of the meters
   * @throws IllegalArgumentException when a cap is below 1
   */
  public static ConnectionGuard create(
      int maxConnections,
      int maxConnectionsPerIp,
      List<Cidr> exemptFromPerIp,
      MeterRegistry registry,
      String listener) {
    return new ConnectionGuard(
        maxConnections, maxConnectionsPerIp, exemptFromPerIp, registry, listener);
  }

  private static Counter refused(MeterRegistry registry, String listener, String reason) {
    return Counter.builder("foobar.connections.refused")
        .description("Connections closed at accept time because a connection cap was reached")
        .tag("listener", listener)
        .tag("reason", reason)
        .register(registry);
  }

  /**
   * An accept-time listener: admits a newly accepted connection to {@code next} or closes it.
   * Install it as the listener of the raw accepted connections, before TLS and before any PROXY
   * protocol header is read, for example {@code worker.createStreamConnectionServer(address,
   * ChannelListeners.openListenerAdapter(guard.wrap(openListener)), options)}.
   *
   * @param next Undertow's open listener ({@code HttpOpenListener}, or the listener that starts TLS
   *     or reads a PROXY header, e.g. {@link ClientAddress#proxyProtocol})
   */
  public ChannelListener<StreamConnection> wrap(ChannelListener<? super StreamConnection> next) {
    return connection -> {
      InetSocketAddress peer = connection.getPeerAddress(InetSocketAddress.class);
      InetAddress ip = peer == null ? null : peer.getAddress();
      if (ip == null) {
        IoUtils.safeClose(connection);
        return;
      }
      if (!acquire(ip)) {
        IoUtils.safeClose(connection);
        return;
      }
      AtomicBoolean released = new AtomicBoolean();
      connection.setCloseListener(
          c -> {
            if (released.compareAndSet(false, true)) {
              release(ip);
            }
          });
      next.handleEvent(new Tracked(connection));
    };
  }

  /** Connections held now. */
  public int open() {
    return open.get();
  }

  private boolean acquire(InetAddress ip) {
    int total = open.incrementAndGet();
    if (total > maxTotal) {
      open.decrementAndGet();
      refusedTotal.increment();
      return false;
    }
    if (isExempt(ip)) {
      return true;
    }
    boolean[] admitted = {false};
    perIp.compute(
        ip,
        (k, count) -> {
          AtomicInteger c = count == null ? new AtomicInteger() : count;
          if (c.get() < maxPerIp) {
            c.incrementAndGet();
            admitted[0] = true;
          }
          return c.get() == 0 ? null : c;
        });
    if (!admitted[0]) {
      open.decrementAndGet();
      refusedPerIp.increment();
    }
    return admitted[0];
  }

  private void release(InetAddress ip) {
    open.decrementAndGet();
    if (!isExempt(ip)) {
      perIp.computeIfPresent(ip, (k, c) -> c.decrementAndGet() == 0 ? null : c);
    }
  }

  private boolean isExempt(InetAddress ip) {
    for (Cidr c : exempt) {
      if (c.contains(ip)) {
        return true;
      }
    }
    return false;
  }

  /** Peer IPs holding connections now, for tests: entries go when their last connection does. */
  int trackedPeers() {
    return perIp.size();
  }

  /**
   * The accepted connection as Undertow sees it: same conduits, addresses and options; Undertow may
   * set this one's close listener. Closing it closes the accepted connection, whose close listener
   * frees the slot. This is the pattern of Undertow's own PROXY protocol wrapper.
   */
  private static final class Tracked extends StreamConnection {
    private final StreamConnection delegate;

    Tracked(StreamConnection delegate) {
      super(delegate.getIoThread());
      this.delegate = delegate;
      setSinkConduit(delegate.getSinkChannel().getConduit());
      setSourceConduit(delegate.getSourceChannel().getConduit());
    }

    @Override
    protected void notifyWriteClosed() {
      IoUtils.safeClose(delegate.getSinkChannel());
    }

    @Override
    protected void notifyReadClosed() {
      IoUtils.safeClose(delegate.getSourceChannel());
    }

    @Override
    protected void closeAction() throws IOException {
      delegate.close();
    }

    @Override
    public SocketAddress getPeerAddress() {
      return delegate.getPeerAddress();
    }

    @Override
    public SocketAddress getLocalAddress() {
      return delegate.getLocalAddress();
    }

    @Override
    public boolean supportsOption(Option<?> option) {
      return delegate.supportsOption(option);
    }

    @Override
    public <T> T getOption(Option<T> option) throws IOException {
      return delegate.getOption(option);
    }

    @Override
    public <T> T setOption(Option<T> option, T value) throws IOException {
      return delegate.setOption(option, value);
    }
  }
}
