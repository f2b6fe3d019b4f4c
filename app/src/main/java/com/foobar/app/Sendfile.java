package com.foobar.app;

import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;

/**
 * Sends a file's bytes with {@code sendfile(2)} from the IO thread, without blocking: the kernel
 * moves page-cache pages to the socket, so a large hot file costs no copy through user memory. The
 * {@link FileChannel} stays open in the {@link CacheEntry} (no {@code open(2)} per request) and is
 * read with explicit positions, so concurrent requests can share it.
 *
 * <p>The headers go out in one {@code writev(2)} with the first {@link #HEAD_BYTES} of the body,
 * copied from memory (Undertow's response conduit copies through a buffer instead of transferring
 * while headers are pending; and a client woken for the headers alone would read twice).
 */
final class Sendfile implements ChannelListener<StreamSinkChannel> {
  private static final Logger LOG = LoggerFactory.getLogger(Sendfile.class);

  /** Body bytes written from memory together with the headers. */
  static final int HEAD_BYTES = 16 * 1024;

  private final HttpServerExchange exchange;
  private final StreamSinkChannel out;
  private final FileChannel file;
  private final ByteBuffer head;
  private long position;
  private long remaining;

  private Sendfile(
      HttpServerExchange exchange, StreamSinkChannel out, FileChannel file, ByteBuffer body) {
    this.exchange = exchange;
    this.out = out;
    this.file = file;
    this.head = body.duplicate();
    this.head.limit(Math.min(body.limit(), body.position() + HEAD_BYTES));
    this.position = head.remaining();
    this.remaining = body.remaining() - position;
  }

  /**
   * Sends {@code body}, the in-memory copy of {@code file}'s content, as the response body: its
   * start from memory with the headers, the rest from {@code file} with {@code sendfile(2)}.
   */
  static void send(HttpServerExchange exchange, FileChannel file, ByteBuffer body) {
    new Sendfile(exchange, exchange.getResponseChannel(), file, body).handleEvent(null);
  }

  @Override
  public void handleEvent(StreamSinkChannel ignored) {
    try {
      while (head.hasRemaining()) {
        if (out.write(head) == 0) {
          awaitWritable();
          return;
        }
      }
      while (remaining > 0) {
        long sent = out.transferFrom(file, position, remaining);
        if (sent == 0) {
          if (position >= file.size()) {
            throw new IOException("file shrank while being sent: " + position + " bytes left");
          }
          awaitWritable();
          return;
        }
        position += sent;
        remaining -= sent;
      }
      out.getWriteSetter().set(null);
      out.suspendWrites();
      exchange.endExchange();
    } catch (IOException e) {
      LOG.atDebug()
          .addKeyValue("event", "static.send_failed")
          .setCause(e)
          .log("sendfile ended early; closing the connection");
      IoUtils.safeClose(exchange.getConnection());
      exchange.endExchange();
    }
  }

  private void awaitWritable() {
    out.getWriteSetter().set(this);
    out.resumeWrites();
  }
}
