package com.foobar.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ReadReadyHandler;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Answers the reads of an HTTP/2 connection with 0, without asking the TLS conduit below (and the
 * socket under it), once a read found nothing, until the connection is said to be readable again
 * (the selector, or TLS for bytes it holds, calls the read-ready handler; a wake-up) or the IO
 * thread's turn ends. Undertow's framing reads before it parses each frame, even with frames left
 * in its buffer: a TLS record carrying ten requests cost ten reads, nine of them a system call that
 * found nothing.
 */
final class EmptyReadConduit extends AbstractStreamSourceConduit<StreamSourceConduit> {
  private boolean empty;
  private final Runnable forget = () -> empty = false;

  EmptyReadConduit(StreamSourceConduit next) {
    super(next);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (empty) {
      return 0;
    }
    int n = next.read(dst);
    if (n == 0) {
      foundNothing();
    }
    return n;
  }

  @Override
  public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
    if (empty) {
      return 0;
    }
    long n = next.read(dsts, offs, len);
    if (n == 0) {
      foundNothing();
    }
    return n;
  }

  @Override
  public long transferTo(long position, long count, FileChannel target) throws IOException {
    empty = false;
    return next.transferTo(position, count, target);
  }

  @Override
  public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target)
      throws IOException {
    empty = false;
    return next.transferTo(count, throughBuffer, target);
  }

  private void foundNothing() {
    empty = true;
    getReadThread().execute(forget);
  }

  @Override
  public void wakeupReads() {
    empty = false;
    next.wakeupReads();
  }

  @Override
  public void setReadReadyHandler(ReadReadyHandler handler) {
    next.setReadReadyHandler(handler == null ? null : new Readable(handler));
  }

  /** The handler above, told after the conduit forgot that the connection was empty. */
  private final class Readable implements ReadReadyHandler {
    private final ReadReadyHandler above;

    Readable(ReadReadyHandler above) {
      this.above = above;
    }

    @Override
    public void readReady() {
      empty = false;
      above.readReady();
    }

    @Override
    public void forceTermination() {
      above.forceTermination();
    }

    @Override
    public void terminated() {
      above.terminated();
    }
  }
}
