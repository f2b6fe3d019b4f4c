package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.undertow.Undertow;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xnio.ChannelListener;
import org.xnio.ChannelListeners;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

class ConnectionGuardTest {
  private static final HttpHandler ECHO =
      ex -> ex.getResponseSender().send("client=" + ClientAddress.of(ex).getHostAddress());

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<AutoCloseable> clients = new ArrayList<>();
  private XnioWorker worker;
  private AcceptingChannel<StreamConnection> server;
  private ConnectionGuard guard;

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : clients) {
      c.close();
    }
    if (server != null) {
      server.close();
    }
    if (worker != null) {
      worker.shutdownNow();
    }
  }

  /** A listener as the lb would open it: accept → guard → (PROXY gate) → HTTP. */
  private int start(int total, int perIp, List<Cidr> trusted, boolean proxyProtocol)
      throws IOException {
    worker =
        Xnio.getInstance(Undertow.class.getClassLoader())
            .createWorker(OptionMap.create(Options.WORKER_IO_THREADS, 2));
    DefaultByteBufferPool pool = new DefaultByteBufferPool(false, 16 * 1024);
    HttpOpenListener http = new HttpOpenListener(pool, OptionMap.EMPTY);
    http.setRootHandler(ClientAddress.handler(trusted, ECHO));
    guard = ConnectionGuard.create(total, perIp, trusted, registry, "lb");
    ChannelListener<StreamConnection> open =
        proxyProtocol
            ? ClientAddress.proxyProtocol(trusted, http, Optional.empty(), pool, OptionMap.EMPTY)
            : http;
    server =
        worker.createStreamConnectionServer(
            new InetSocketAddress("127.0.0.1", 0),
            ChannelListeners.openListenerAdapter(guard.wrap(open)),
            OptionMap.create(Options.REUSE_ADDRESSES, true));
    server.resumeAccepts();
    return ((InetSocketAddress) server.getLocalAddress()).getPort();
  }

  private Loopback connect(String from, int port) throws IOException {
    Loopback c = Loopback.connect(from, port);
    clients.add(c);
    return c;
  }

  private double refused(String reason) {
    return registry
        .get("foobar.connections.refused")
        .tag("listener", "lb")
        .tag("reason", reason)
        .counter()
        .count();
  }

  private static void awaitValue(IntSupplier value, int expected) throws InterruptedException {
    for (int i = 0; i < 200 && value.getAsInt() != expected; i++) {
      Thread.sleep(10);
    }
    assertThat(value.getAsInt()).isEqualTo(expected);
  }

  @Test
  void perIpCap_refusesTheNextConnection_otherIpConnects_andClosingOneFreesASlot()
      throws Exception {
    int port = start(100, 2, List.of(), false);
    Loopback first = connect("127.0.0.2", port);
    Loopback second = connect("127.0.0.2", port);
    // keep-alive: several requests on one connection count once
    for (int i = 0; i < 3; i++) {
      assertThat(first.get("/")).startsWith("HTTP/1.1 200");
      assertThat(second.get("/")).startsWith("HTTP/1.1 200");
    }
    Loopback third = connect("127.0.0.2", port);
    assertThat(third.get("/")).isEmpty();
    assertThat(refused("per_ip")).isEqualTo(1.0);
    assertThat(connect("127.0.0.3", port).get("/")).endsWith("client=127.0.0.3");

    first.close();
    awaitValue(guard::open, 2);
    assertThat(connect("127.0.0.2", port).get("/")).startsWith("HTTP/1.1 200");
    assertThat(refused("total")).isZero();
  }

  @Test
  void totalCap_refusesAnyPeer_untilAConnectionCloses() throws Exception {
    int port = start(2, 10, List.of(), false);
    Loopback a = connect("127.0.0.2", port);
    assertThat(a.get("/")).startsWith("HTTP/1.1 200");
    assertThat(connect("127.0.0.3", port).get("/")).startsWith("HTTP/1.1 200");
    assertThat(connect("127.0.0.4", port).get("/")).isEmpty();
    assertThat(refused("total")).isEqualTo(1.0);

    a.close();
    awaitValue(guard::open, 1);
    assertThat(connect("127.0.0.4", port).get("/")).startsWith("HTTP/1.1 200");
  }

  @Test
  void connectionsThatNeverSendARequest_areCounted() throws Exception {
    int port = start(100, 1, List.of(), false);
    Loopback silent = connect("127.0.0.2", port);
    awaitValue(guard::open, 1);
    assertThat(connect("127.0.0.2", port).get("/")).isEmpty();
    silent.close();
    awaitValue(guard::open, 0);
    awaitValue(guard::trackedPeers, 0);
  }

  @Test
  void serverSideClose_freesTheSlot() throws Exception {
    int port = start(100, 1, List.of(), false);
    Loopback c = connect("127.0.0.2", port);
    assertThat(c.get("/", "Connection: close")).startsWith("HTTP/1.1 200");
    // the server shut its side down after the response; the client sees the end of the stream
    assertThat(c.response()).isEmpty();
    c.close();
    awaitValue(guard::open, 0);
    assertThat(connect("127.0.0.2", port).get("/")).startsWith("HTTP/1.1 200");
  }

  @Test
  void trustedProxy_isHeldToTheTotalCapOnly() throws Exception {
    int port = start(100, 1, List.of(Cidr.parse("127.0.0.2")), false);
    for (int i = 0; i < 3; i++) {
      assertThat(connect("127.0.0.2", port).get("/")).startsWith("HTTP/1.1 200");
    }
    assertThat(guard.open()).isEqualTo(3);
  }

  @Test
  void proxyProtocolHeader_believedFromTrustedPeer_only() throws Exception {
    int port = start(100, 10, List.of(Cidr.parse("127.0.0.2")), true);
    String header = "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n";
    Loopback proxy = connect("127.0.0.2", port).send(header);
    assertThat(proxy.get("/")).startsWith("HTTP/1.1 200").endsWith("client=203.0.113.7");
    // the same connection keeps its client for further requests
    assertThat(proxy.get("/")).endsWith("client=203.0.113.7");

    Loopback direct = connect("127.0.0.3", port).send(header);
    assertThat(direct.get("/")).doesNotContain("203.0.113.7").startsWith("HTTP/1.1 400");
    assertThat(connect("127.0.0.3", port).get("/")).endsWith("client=127.0.0.3");
  }
}
