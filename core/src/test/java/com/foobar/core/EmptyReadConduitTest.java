package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
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
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.EmptyStreamSourceConduit;
import org.xnio.conduits.ReadReadyHandler;
import org.xnio.conduits.StreamSourceConduit;

/**
 * {@link EmptyReadConduit} over a conduit that counts the reads that reach it and has as many bytes
 * as the test gives it, on a real XNIO IO thread (whose turn ending makes the conduit read again).
 */
class EmptyReadConduitTest {
  private static XnioWorker worker;

  @BeforeAll
  static void worker() throws Exception {
    worker = Xnio.getInstance().createWorker(OptionMap.create(Options.WORKER_IO_THREADS, 1));
  }

  @AfterAll
  static void stop() {
    worker.shutdownNow();
  }

  /** The conduit below: counts reads, gives {@link #available} bytes, keeps its ready handler. */
  private static final class Below extends AbstractStreamSourceConduit<StreamSourceConduit> {
    final AtomicInteger reads = new AtomicInteger();
    volatile int available;
    volatile ReadReadyHandler handler;

    Below() {
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
    Below below = new Below();
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
    Below below = new Below();
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
