package com.foobar.app;

import io.undertow.io.IoCallback;
import io.undertow.io.Sender;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.channels.Channels;
import org.xnio.channels.StreamSinkChannel;

/**
 * Zero-copy sending of files too large for the memory cache ({@code FileChannel.transferTo}, i.e.
 * sendfile, under Undertow's channels). Must be called on a worker thread; headers, including
 * {@code Content-Length}, are set by the caller.
 */
final class FileTransfer {

  private static final Logger LOG = LoggerFactory.getLogger(FileTransfer.class);

  private FileTransfer() {}

  /** Sends the whole file asynchronously; the channel is closed when the send ends. */
  static void whole(HttpServerExchange exchange, Path file) {
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException e) {
      fail(exchange, e);
      return;
    }
    exchange.getResponseSender().transferFrom(channel, new ClosingCallback(channel));
  }

  /**
   * Sends {@code headers[i]} then range {@code i} of the file, for each range, then {@code
   * trailer}; blocks the worker thread until done. Undertow's async {@code transferFrom} always
   * sends to the end of the file, which a range must not.
   */
  static void parts(
      HttpServerExchange exchange,
      Path file,
      List<byte[]> headers,
      List<ByteRanges.Range> ranges,
      byte[] trailer) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      StreamSinkChannel out = exchange.getResponseChannel();
      for (int i = 0; i < ranges.size(); i++) {
        writeFully(out, headers.get(i));
        ByteRanges.Range range = ranges.get(i);
        // while the response headers are still unwritten, Undertow copies from the channel's own
        // position and ignores the position argument; keep both in agreement
        channel.position(range.first());
        Channels.transferBlocking(out, channel, range.first(), range.length());
      }
      writeFully(out, trailer);
      out.shutdownWrites();
      Channels.flushBlocking(out);
      exchange.endExchange();
    } catch (IOException e) {
      fail(exchange, e);
    }
  }

  private static void writeFully(StreamSinkChannel out, byte[] bytes) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    while (buffer.hasRemaining()) {
      Channels.writeBlocking(out, buffer);
    }
  }

  /**
   * The client went away or the file vanished mid-response: the connection cannot be reused. Logged
   * at debug only, since any client can cause it at will.
   */
  private static void fail(HttpServerExchange exchange, IOException e) {
    LOG.debug(
        "event=static.send_failed path={} reason={}", exchange.getRequestPath(), e.toString());
    IoUtils.safeClose(exchange.getConnection());
  }

  private static final class ClosingCallback implements IoCallback {
    private final FileChannel channel;

    ClosingCallback(FileChannel channel) {
      this.channel = channel;
    }

    @Override
    public void onComplete(HttpServerExchange exchange, Sender sender) {
      IoUtils.safeClose(channel);
      IoCallback.END_EXCHANGE.onComplete(exchange, sender);
    }

    @Override
    public void onException(HttpServerExchange exchange, Sender sender, IOException exception) {
      IoUtils.safeClose(channel);
      IoCallback.END_EXCHANGE.onException(exchange, sender, exception);
    }
  }
}
