package com.foobar.core;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Writes HTTP/1.1 requests with chunked bodies, as a client that streams an upload does. */
public final class ChunkedBodies {
  private ChunkedBodies() {}

  /**
   * Writes {@code head} (ending in the empty line), then {@code bytes} of 'x' in chunks of {@code
   * chunk} bytes, then the last chunk.
   */
  public static void send(OutputStream socket, String head, long bytes, int chunk)
      throws IOException {
    OutputStream out = new BufferedOutputStream(socket, 2 * chunk + 64);
    out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    byte[] data = new byte[chunk];
    Arrays.fill(data, (byte) 'x');
    for (long sent = 0; sent < bytes; sent += chunk) {
      int n = (int) Math.min(chunk, bytes - sent);
      out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(data, 0, n);
      out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }
    out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }
}
