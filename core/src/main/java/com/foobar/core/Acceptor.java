package com.foobar.core;

import io.undertow.UndertowOptions;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.DelegateOpenListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.OpenListener;
import io.undertow.server.protocol.http.AlpnOpenListener;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.server.protocol.http2.Http2OpenListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

/**
 * A listening socket opened by hand on an Undertow worker, for what {@code Undertow.builder()}
 * cannot express: work on the raw accepted connection, before TLS and before Undertow reads a byte.
 * Accepted connections pass, in order, the {@link ConnectionGuard} (if any), the PROXY header gate
 * of {@link ClientAddress#proxyProtocol} (if any), TLS (for an HTTPS listener), then the open
 * listener {@code Undertow.start()} would have built: {@link HttpOpenListener}, or with HTTP/2 an
 * {@link AlpnOpenListener} offering {@code h2} next to HTTP/1.1, whose HTTP/2 connections get a
 * {@link CoalescingSinkConduit} and an {@link EmptyReadConduit} over their TLS and a {@link
 * PlainHpackEncoder} for their header blocks.
 */
final class Acceptor {
  /** The buffer size of {@code Undertow.start()} for a heap of 128 MiB or more. */
  private static final int BUFFER_SIZE = 16 * 1024;

  /**
   * Buffers a listener's pool keeps beyond its IO threads' own caches (16 MiB at most). {@code
   * Undertow.start()} passes -1, which keeps none: every buffer beyond a thread's cache of 4 was
   * freed and the next one allocated and zeroed anew, which under HTTP/2 load (a buffer per
   * response frame, hundreds in flight per turn of the loop) cost a tenth of the lb's CPU.
   */
  private static final int POOLED_BUFFERS = 1024;

  private static final int THREAD_CACHED_BUFFERS = 64;

  /** The backlog {@code HttpServer} gives Undertow's listeners. */
  private static final int BACKLOG = 1024;

  private final AcceptingChannel<StreamConnection> channel;
  private final DefaultByteBufferPool buffers;

  private Acceptor(AcceptingChannel<StreamConnection> channel, DefaultByteBufferPool buffers) {
    this.channel = channel;
    this.buffers = buffers;
  }

  /**
   * TLS of an HTTPS listener.
   *
   * @param options protocols, suites and client authentication ({@code Options.SSL_*})
   */
  record Tls(SSLContext context, OptionMap options, boolean http2) {}

  /**
   * What happens to an accepted connection before Undertow's open listener.
   *
   * @param proxyProtocolFrom peers that must send a PROXY header; empty for no PROXY protocol
   */
  record Gates(Optional<ConnectionGuard> guard, Optional<List<Cidr>> proxyProtocolFrom) {}

  /**
   * Binds {@code address} and accepts connections on {@code worker}'s IO threads.
   *
   * @param serverOptions Undertow's options ({@code UndertowOptions.*}) for the open listeners
   * @param h1 what receives the HTTP/1.1 connections, given Undertow's open listener for them
   * @throws UncheckedIOException when the address cannot be bound
   */
  static Acceptor open(
      XnioWorker worker,
      OptionMap serverOptions,
      HostPort address,
      HttpHandler root,
      Optional<Tls> tls,
      Gates gates,
      UnaryOperator<DelegateOpenListener> h1) {
    DefaultByteBufferPool pool =
        new DefaultByteBufferPool(true, BUFFER_SIZE, POOLED_BUFFERS, THREAD_CACHED_BUFFERS);
    boolean http2 = tls.map(Tls::http2).orElse(false);
    OptionMap options =
        OptionMap.builder()
            .set(UndertowOptions.BUFFER_PIPELINED_DATA, true)
            .addAll(serverOptions)
            .set(UndertowOptions.ENABLE_HTTP2, http2)
            .getMap();
    HttpOpenListener http = new HttpOpenListener(pool, options);
    http.setRootHandler(root);
    DelegateOpenListener http1 = h1.apply(http);
    OpenListener open = http1;
    if (http2) {
      AlpnOpenListener alpn = new AlpnOpenListener(pool, options, http1);
      Http2OpenListener h2 = new Http2OpenListener(pool, options);
      h2.setRootHandler(root);
      alpn.addProtocol(
          Http2OpenListener.HTTP2, PlainHpackEncoder.around(CoalescingSinkConduit.around(h2)), 10);
      open = alpn;
    }
    Optional<UndertowXnioSsl> ssl =
        tls.map(
            t ->
                new UndertowXnioSsl(
                    worker.getXnio(),
                    OptionMap.create(Options.USE_DIRECT_BUFFERS, true),
                    t.context()));
    OptionMap sslOptions = tls.map(Tls::options).orElse(OptionMap.EMPTY);
    ChannelListener<StreamConnection> accepted =
        gates.proxyProtocolFrom().isPresent()
            ? ClientAddress.proxyProtocol(
                gates.proxyProtocolFrom().get(), open, ssl, pool, sslOptions)
            : startTls(open, ssl, sslOptions);
    if (gates.guard().isPresent()) {
      accepted = gates.guard().get().wrap(accepted);
    }
    try {
      AcceptingChannel<StreamConnection> channel =
          acceptOnIoThreads(
              worker, new InetSocketAddress(InetAddress.getByName(address.host()), address.port()));
      channel.getAcceptSetter().set(ChannelListeners.openListenerAdapter(accepted));
      channel.resumeAccepts();
      return new Acceptor(channel, pool);
    } catch (IOException e) {
      pool.close();
      throw new UncheckedIOException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
  }

  /**
   * A listening socket that the worker's IO threads accept on themselves, each handing the
   * connection straight on: XNIO's {@code NioTcpServer} in its per-thread mode. XNIO still gives
   * the connection to an IO thread of its choice (at random), and the open listener runs on the
   * accepting thread: a listener that keeps per-thread state moves to the connection's thread
   * first.
   *
   * <p>{@code XnioWorker.createStreamConnectionServer}, which {@code Undertow.start()} uses, always
   * wraps that server in one registered with a separate accept thread, which accepts and then
   * passes every connection to an IO thread through a task queue and a selector wake-up: two thread
   * switches per connection. With one core per IO thread that cost about a tenth of a new TLS
   * connection's CPU (the lb on bench/lb.sh's layout, both variants side by side: 1220-1395 against
   * 1070-1260 new TLS connections per second). The per-thread constructor is not public, hence the
   * reflection; {@code AcceptorTest} fails if an XNIO upgrade takes it away.
   *
   * @throws IOException when {@code address} cannot be bound
   */
  @SuppressWarnings("unchecked")
  static AcceptingChannel<StreamConnection> acceptOnIoThreads(
      XnioWorker worker, InetSocketAddress address) throws IOException {
    ServerSocketChannel socket = ServerSocketChannel.open();
    try {
      socket.socket().setReuseAddress(true);
      socket.configureBlocking(false);
      socket.bind(address, BACKLOG);
      Constructor<?> perThread =
          Class.forName("org.xnio.nio.NioTcpServer")
              .getDeclaredConstructor(
                  Class.forName("org.xnio.nio.NioXnioWorker"),
                  ServerSocketChannel.class,
                  OptionMap.class,
                  boolean.class);
      perThread.setAccessible(true);
      return (AcceptingChannel<StreamConnection>)
          perThread.newInstance(worker, socket, socketOptions(worker), false);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    } catch (InvocationTargetException e) {
      socket.close();
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      socket.close();
      throw new IllegalStateException("this XNIO version has no per-thread accepting server", e);
    }
  }

  /**
   * The socket options of Undertow.start() for accepted connections. Balancing between IO threads
   * (a thread that took {@code BALANCING_CONNECTIONS} connections in a row lets the others accept)
   * needs at least two of them.
   */
  private static OptionMap socketOptions(XnioWorker worker) {
    OptionMap.Builder b =
        OptionMap.builder()
            .set(Options.WORKER_IO_THREADS, worker.getIoThreadCount())
            .set(Options.TCP_NODELAY, true)
            .set(Options.REUSE_ADDRESSES, true);
    if (worker.getIoThreadCount() > 1) {
      b.set(Options.BALANCING_TOKENS, 1).set(Options.BALANCING_CONNECTIONS, 2);
    }
    return b.getMap();
  }

  /** The address bound. */
  InetSocketAddress address() {
    return channel.getLocalAddress(InetSocketAddress.class);
  }

  /** Stops accepting; connections already accepted stay open. */
  void stopAccepting() {
    IoUtils.safeClose(channel);
  }

  /**
   * Frees the buffers, after {@link #stopAccepting} and once the worker closed the connections
   * (closing the listening socket after the worker stopped would wait for it forever).
   */
  void releaseBuffers() {
    buffers.close();
  }

  /**
   * Hands an accepted connection to {@code next}, in server-mode TLS when {@code ssl} is present
   * (the handshake starts when Undertow first reads).
   */
  static ChannelListener<StreamConnection> startTls(
      OpenListener next, Optional<UndertowXnioSsl> ssl, OptionMap sslOptions) {
    if (ssl.isEmpty()) {
      return next::handleEvent;
    }
    UndertowXnioSsl tls = ssl.get();
    return connection -> {
      try {
        next.handleEvent(tls.wrapExistingConnection(connection, sslOptions, false));
      } catch (RuntimeException e) {
        IoUtils.safeClose(connection);
        throw e;
      }
    };
  }
}
