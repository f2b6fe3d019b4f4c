package com.foobar.launcher;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Requests written byte for byte, so nothing normalizes the path or the headers on the way. */
final class RawHttp {
  private RawHttp() {}

  /** Sends {@code request} from {@code localAddress} and reads until the server closes. */
  static String exchange(String localAddress, int port, String request) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      s.setSoTimeout(5000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return readAll(s.getInputStream());
    }
  }

  /** A GET with {@code Connection: close} for {@code target}, exactly as given. */
  static String get(int port, String target) throws IOException {
    return exchange(
        "127.0.0.1", port, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }

  static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) > 0) {
      out.write(buf, 0, n);
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  /** The status code of a raw response ({@code HTTP/1.1 404 Not Found} → 404). */
  static int status(String response) {
    if (!response.startsWith("HTTP/1.1 ")) {
      throw new AssertionError("not an HTTP/1.1 response: " + response);
    }
    return Integer.parseInt(response.substring(9, 12));
  }
}
