package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.EmptyStreamSourceConduit;
import org.xnio.conduits.NullStreamSinkConduit;
import org.xnio.conduits.ReadReadyHandler;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * The conduits {@link CoalescingSinkConduit#around} puts on HTTP/2 connections, each over a conduit
 * that records what reaches it, on a real XNIO IO thread: {@link CoalescingSinkConduit} (the
 * conduit below records each write it gets, as the TLS conduit would wrap each into one record, and
 * takes at most what the test allows) and {@link EmptyReadConduit} (the conduit below counts the
 * reads that reach it and has as many bytes as the test gives it; the IO thread's turn ending makes
 * the conduit read again).
 */
class Http2ConduitsTest {
  private static XnioWorker worker;

  @BeforeAll
  static void worker() throws Exception {
    worker = Xnio.getInstance().createWorker(OptionMap.create(Options.WORKER_IO_THREADS, 1));
  }

  @AfterAll
  static void stop() {
    worker.shutdownNow();
  }

  /** The sink conduit below: one entry per write call, taking up to {@link #room} bytes. */
  private static final class SinkBelow extends AbstractStreamSinkConduit<StreamSinkConduit> {
    final List<String> writes = new ArrayList<>();
    int room = Integer.MAX_VALUE;

    SinkBelow() {
      // never reached: every write stops here
      super(new NullStreamSinkConduit(worker.getIoThread(0)));
    }

    @Override
    public int write(ByteBuffer src) {
      int n = Math.min(src.remaining(), room);
      byte[] b = new byte[n];
      src.get(b);
      room -= n;
      writes.add(new String(b, StandardCharsets.ISO_8859_1));
      return n;
    }
  }

  private static ByteBuffer[] buffers(String... parts) {
    ByteBuffer[] b = new ByteBuffer[parts.length];
    for (int i = 0; i < parts.length; i++) {
      b[i] = ByteBuffer.wrap(parts[i].getBytes(StandardCharsets.ISO_8859_1));
    }
    return b;
  }

  @Test
  void aGatheringWrite_reachesTheConduitBelowAsOneWrite() throws Exception {
    SinkBelow below = new SinkBelow();
    CoalescingSinkConduit c = new CoalescingSinkConduit(below);
    ByteBuffer[] srcs = buffers("", "HEADERS+", "", "DATA-HEADER+", "data");
    assertThat(c.write(srcs, 0, srcs.length)).isEqualTo(24);
    assertThat(below.writes).containsExactly("HEADERS+DATA-HEADER+data");
    for (ByteBuffer b : srcs) {
      assertThat(b.hasRemaining()).isFalse();
    }
  }

  @Test
  void whatTheConduitBelowDidNotTake_staysInTheSources() throws Exception {
    SinkBelow below = new SinkBelow();
    below.room = 10;
    CoalescingSinkConduit c = new CoalescingSinkConduit(below);
    ByteBuffer[] srcs = buffers("HEADERS+", "DATA-HEADER+", "data");
    assertThat(c.write(srcs, 0, 3)).isEqualTo(10);
    assertThat(srcs[0].remaining()).isZero();
    assertThat(srcs[1].position()).isEqualTo(2);
    assertThat(srcs[2].position()).isZero();
    below.room = Integer.MAX_VALUE;
    assertThat(c.write(srcs, 1, 2)).isEqualTo(14);
    assertThat(below.writes).containsExactly("HEADERS+DA", "TA-HEADER+data");
  }

  @Test
  void oneBuffer_passesAsItIs_andAWriteIsAtMostOneRecord() throws Exception {
    SinkBelow below = new SinkBelow();
    CoalescingSinkConduit c = new CoalescingSinkConduit(below);
    ByteBuffer[] one = buffers("", "only", "");
    assertThat(c.write(one, 0, 3)).isEqualTo(4);
    assertThat(c.write(buffers("", ""), 0, 2)).isZero();
    ByteBuffer[] big = {ByteBuffer.allocate(10_000), ByteBuffer.allocate(10_000)};
    assertThat(c.write(big, 0, 2)).isEqualTo(16 * 1024);
    assertThat(big[0].remaining()).isZero();
    assertThat(big[1].remaining()).isEqualTo(20_000 - 16 * 1024);
    assertThat(below.writes).hasSize(2);
    assertThat(below.writes.get(0)).isEqualTo("only");
  }

  /**
   * The source conduit below: counts reads, gives {@link #available} bytes, keeps its ready
   * handler.
   */
  private static final class SourceBelow extends AbstractStreamSourceConduit<StreamSourceConduit> {
    final AtomicInteger reads = new AtomicInteger();
    volatile int available;
    volatile ReadReadyHandler handler;

    SourceBelow() {
      super(new EmptyStreamSourceConduit(worker.getIoThread(0)));
    }

    @Override
    public int read(ByteBuffer dst) {
      reads.incrementAndGet();
      int n = Math.min(available, dst.remaining());
      dst.position(dst.position() + n);
      available -= n;
      return n;
    }

    @Override
    public void setReadReadyHandler(ReadReadyHandler handler) {
      this.handler = handler;
    }

    @Override
    public void wakeupReads() {}
  }

  /** Runs {@code task} on the IO thread and waits for it: a turn of its loop. */
  private static void onIoThread(ThrowingRunnable task) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    Exception[] failed = new Exception[1];
    worker
        .getIoThread(0)
        .execute(
            () -> {
              try {
                task.run();
              } catch (Exception e) {
                failed[0] = e;
              } finally {
                done.countDown();
              }
            });
    assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    if (failed[0] != null) {
      throw failed[0];
    }
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void afterAReadFoundNothing_furtherReadsInTheSameTurnDoNotReachTheConduitBelow()
      throws Exception {
    SourceBelow below = new SourceBelow();
    EmptyReadConduit c = new EmptyReadConduit(below);
    ByteBuffer dst = ByteBuffer.allocate(64);
    onIoThread(
        () -> {
          below.available = 10;
          assertThat(c.read(dst)).isEqualTo(10);
          assertThat(c.read(dst)).isZero();
          below.available = 5;
          // the socket would say so through the selector; until then, nothing is asked
          assertThat(c.read(dst)).isZero();
          assertThat(c.read(new ByteBuffer[] {dst}, 0, 1)).isZero();
          assertThat(below.reads.get()).isEqualTo(2);
        });
    // the next turn reads again
    onIoThread(
        () -> {
          assertThat(c.read(dst)).isEqualTo(5);
          assertThat(below.reads.get()).isEqualTo(3);
        });
  }

  @Test
  void readReady_andAWakeUp_makeItReadAgain() throws Exception {
    SourceBelow below = new SourceBelow();
    EmptyReadConduit c = new EmptyReadConduit(below);
    AtomicInteger told = new AtomicInteger();
    c.setReadReadyHandler(
        new ReadReadyHandler() {
          @Override
          public void readReady() {
            told.incrementAndGet();
          }

          @Override
          public void forceTermination() {}

          @Override
          public void terminated() {}
        });
    ByteBuffer dst = ByteBuffer.allocate(64);
    onIoThread(
        () -> {
          assertThat(c.read(dst)).isZero();
          below.available = 3;
          below.handler.readReady();
          assertThat(told.get()).as("the handler above is told").isEqualTo(1);
          assertThat(c.read(dst)).isEqualTo(3);
          assertThat(c.read(dst)).isZero();
          below.available = 4;
          c.wakeupReads();
          assertThat(c.read(dst)).isEqualTo(4);
          assertThat(below.reads.get()).isEqualTo(4);
        });
  }
}
