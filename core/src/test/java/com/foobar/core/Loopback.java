package com.foobar.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** A keep-alive HTTP/1.1 client bound to a chosen loopback address (127.0.0.2, 127.0.0.3 …). */
final class Loopback implements AutoCloseable {
  private final Socket socket;

  private Loopback(Socket socket) {
    this.socket = socket;
  }

  static Loopback connect(String from, int port) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
    s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
    s.setSoTimeout(5000);
    return new Loopback(s);
  }

  /** Sends raw bytes. */
  Loopback send(String raw) throws IOException {
    socket.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
    return this;
  }

  /** A keep-alive GET; returns the whole response (status line, headers, body). */
  String get(String path, String... headers) throws IOException {
    StringBuilder r = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: x\r\n");
    for (String h : headers) {
      r.append(h).append("\r\n");
    }
    send(r.append("\r\n").toString());
    return response();
  }

  /**
   * Reads one response with a Content-Length body; empty when the server closed the connection
   * without answering.
   */
  String response() throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while (true) {
      try {
        b = in.read();
      } catch (IOException reset) {
        return "";
      }
      if (b < 0) {
        return head.toString(StandardCharsets.ISO_8859_1);
      }
      head.write(b);
      String h = head.toString(StandardCharsets.ISO_8859_1);
      if (h.endsWith("\r\n\r\n")) {
        int length = 0;
        for (String line : h.split("\r\n")) {
          if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(15).trim());
          }
        }
        return h + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
