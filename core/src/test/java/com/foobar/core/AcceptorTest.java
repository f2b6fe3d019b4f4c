package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.undertow.Undertow;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

/** {@link Acceptor#acceptOnIoThreads}: the IO threads accept themselves, with no accept thread. */
class AcceptorTest {
  private final List<Socket> clients = new ArrayList<>();
  private XnioWorker worker;
  private AcceptingChannel<StreamConnection> server;

  @AfterEach
  void stop() throws IOException {
    for (Socket c : clients) {
      c.close();
    }
    IoUtils.safeClose(server);
    if (worker != null) {
      worker.shutdownNow();
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void connections_areAcceptedOnTheIoThreads(int ioThreads) throws Exception {
    worker =
        Xnio.getInstance(Undertow.class.getClassLoader())
            .createWorker(OptionMap.create(Options.WORKER_IO_THREADS, ioThreads));
    server = Acceptor.acceptOnIoThreads(worker, new InetSocketAddress("127.0.0.1", 0));
    assertThat(server.getClass().getName())
        .as("XNIO's per-thread server; an XNIO upgrade may have renamed or removed it")
        .isEqualTo("org.xnio.nio.NioTcpServer");
    int n = 40;
    CountDownLatch accepted = new CountDownLatch(n);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    Set<StreamConnection> connections = ConcurrentHashMap.newKeySet();
    server
        .getAcceptSetter()
        .set(
            s -> {
              StreamConnection c;
              try {
                while ((c = s.accept()) != null) {
                  threads.add(Thread.currentThread().getName());
                  assertThat(c.getOption(Options.TCP_NODELAY)).isTrue();
                  connections.add(c);
                  accepted.countDown();
                }
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    server.resumeAccepts();
    int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
    for (int i = 0; i < n; i++) {
      clients.add(new Socket("127.0.0.1", port));
    }

    assertThat(accepted.await(10, TimeUnit.SECONDS)).as("all %d accepted", n).isTrue();
    assertThat(connections).hasSize(n);
    assertThat(threads).isNotEmpty().allMatch(t -> t.contains("I/O-"), "an IO thread");
    connections.forEach(IoUtils::safeClose);
  }

  @Test
  void aTakenAddress_isABindException_andLeavesNothingOpen() throws Exception {
    worker =
        Xnio.getInstance(Undertow.class.getClassLoader())
            .createWorker(OptionMap.create(Options.WORKER_IO_THREADS, 1));
    server = Acceptor.acceptOnIoThreads(worker, new InetSocketAddress("127.0.0.1", 0));
    InetSocketAddress taken = (InetSocketAddress) server.getLocalAddress();

    assertThatThrownBy(() -> Acceptor.acceptOnIoThreads(worker, taken))
        .isInstanceOf(BindException.class);
    try (Socket c = new Socket("127.0.0.1", taken.getPort())) {
      assertThat(c.isConnected()).as("the first server still listens").isTrue();
    }
  }
}
