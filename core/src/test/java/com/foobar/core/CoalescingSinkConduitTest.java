package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.NullStreamSinkConduit;
import org.xnio.conduits.StreamSinkConduit;

/**
 * {@link CoalescingSinkConduit} over a conduit that records each write it gets (as the TLS conduit
 * below would wrap each into one record) and takes at most what the test allows.
 */
class CoalescingSinkConduitTest {
  private static XnioWorker worker;

  @BeforeAll
  static void worker() throws Exception {
    worker = Xnio.getInstance().createWorker(OptionMap.create(Options.WORKER_IO_THREADS, 1));
  }

  @AfterAll
  static void stop() {
    worker.shutdownNow();
  }

  /** The conduit below: one entry per write call, taking up to {@link #room} bytes. */
  private static final class Below extends AbstractStreamSinkConduit<StreamSinkConduit> {
    final List<String> writes = new ArrayList<>();
    int room = Integer.MAX_VALUE;

    Below() {
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
    Below below = new Below();
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
    Below below = new Below();
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
    Below below = new Below();
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
}
