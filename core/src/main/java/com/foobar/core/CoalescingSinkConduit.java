package com.foobar.core;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.DelegateOpenListener;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.xnio.StreamConnection;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.StreamSinkConduit;

/**
 * Gives the TLS conduit below one buffer per gathering write of an HTTP/2 connection, copied
 * together from the many Undertow's framing passes (per frame its header, its payload and its
 * trailer). Undertow's TLS conduit wraps one record per write call and writes it to the socket at
 * once, and OpenSSL's engine (wildfly-openssl) puts only part of a gathering write into that
 * record: a 1 KiB response went out as two records and two system calls, its HEADERS frame and the
 * DATA frame's header in one, the data in the next. Copied together, all frames Undertow flushes at
 * once (up to a record's 16 KiB) are one record and one write; copying 16 KiB costs less than one
 * system call.
 *
 * <p>Bytes the conduit below did not take stay where they were: the sources' positions move by what
 * it took, as for any gathering write.
 */
final class CoalescingSinkConduit extends AbstractStreamSinkConduit<StreamSinkConduit> {
  /** The plaintext of one TLS record. */
  private static final int RECORD = 16 * 1024;

  /** One per IO thread: a connection's writes all happen on its IO thread. */
  private static final ThreadLocal<ByteBuffer> SCRATCH =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(RECORD));

  CoalescingSinkConduit(StreamSinkConduit next) {
    super(next);
  }

  /**
   * Puts the conduit (and an {@link EmptyReadConduit} on the reading side) between the HTTP/2
   * connections that {@code h2} opens and their TLS.
   */
  static DelegateOpenListener around(DelegateOpenListener h2) {
    return new Installing(h2);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offs, int len) throws IOException {
    int first = -1;
    int nonEmpty = 0;
    for (int i = offs; i < offs + len; i++) {
      if (srcs[i].hasRemaining()) {
        if (first < 0) {
          first = i;
        }
        nonEmpty++;
      }
    }
    if (nonEmpty <= 1) {
      return first < 0 ? 0 : next.write(srcs[first]);
    }
    ByteBuffer scratch = SCRATCH.get();
    scratch.clear();
    for (int i = first; i < offs + len && scratch.hasRemaining(); i++) {
      ByteBuffer src = srcs[i];
      int n = Math.min(src.remaining(), scratch.remaining());
      scratch.put(scratch.position(), src, src.position(), n);
      scratch.position(scratch.position() + n);
    }
    scratch.flip();
    long taken = next.write(scratch);
    long left = taken;
    for (int i = first; i < offs + len && left > 0; i++) {
      ByteBuffer src = srcs[i];
      int n = (int) Math.min(src.remaining(), left);
      src.position(src.position() + n);
      left -= n;
    }
    return taken;
  }

  /** The HTTP/2 open listener with the conduits put in first. */
  private static final class Installing extends ForwardingOpenListener {
    Installing(DelegateOpenListener h2) {
      super(h2);
    }

    @Override
    public void handleEvent(StreamConnection connection, PooledByteBuffer buffer) {
      ConduitStreamSinkChannel sink = connection.getSinkChannel();
      sink.setConduit(new CoalescingSinkConduit(sink.getConduit()));
      ConduitStreamSourceChannel source = connection.getSourceChannel();
      source.setConduit(new EmptyReadConduit(source.getConduit()));
      undertow.handleEvent(connection, buffer);
    }
  }
}
