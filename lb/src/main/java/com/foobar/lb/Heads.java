package com.foobar.lb;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Byte-level helpers of {@link H1Relay}: finding the end of an HTTP/1.1 head, matching header names
 * without decoding them, and following a chunked body to its end. Positions are absolute indexes
 * into the buffer; nothing here moves a buffer's position.
 */
final class Heads {
  private Heads() {}

  /**
   * The index just past the blank line that ends the head starting at {@code from}, or -1 when
   * {@code [from, to)} does not hold it yet.
   */
  static int headEnd(ByteBuffer b, int from, int to) {
    for (int i = from + 3; i < to; i++) {
      if (b.get(i) == '\n'
          && b.get(i - 1) == '\r'
          && b.get(i - 2) == '\n'
          && b.get(i - 3) == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  /** The index of the next {@code c} in {@code [from, to)}, or -1. */
  static int indexOf(ByteBuffer b, byte c, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b.get(i) == c) {
        return i;
      }
    }
    return -1;
  }

  /** Whether {@code [from, to)} equals {@code lower} ignoring ASCII case. */
  static boolean equalsLower(ByteBuffer b, int from, int to, byte[] lower) {
    if (to - from != lower.length) {
      return false;
    }
    for (int i = 0; i < lower.length; i++) {
      int c = b.get(from + i);
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lower[i]) {
        return false;
      }
    }
    return true;
  }

  /** The first index of {@code [from, to)} that is not a blank (SP or HTAB), or {@code to}. */
  static int skipBlanks(ByteBuffer b, int from, int to) {
    int i = from;
    while (i < to && (b.get(i) == ' ' || b.get(i) == '\t')) {
      i++;
    }
    return i;
  }

  /** The end of {@code [from, to)} without its trailing blanks (SP or HTAB). */
  static int trimBlanks(ByteBuffer b, int from, int to) {
    int i = to;
    while (i > from && (b.get(i - 1) == ' ' || b.get(i - 1) == '\t')) {
      i--;
    }
    return i;
  }

  /** Whether {@code [from, to)} contains {@code lower} as a comma-separated token. */
  static boolean hasToken(ByteBuffer b, int from, int to, byte[] lower) {
    int start = from;
    for (int i = from; i <= to; i++) {
      if (i == to || b.get(i) == ',') {
        int s = skipBlanks(b, start, i);
        if (equalsLower(b, s, trimBlanks(b, s, i), lower)) {
          return true;
        }
        start = i + 1;
      }
    }
    return false;
  }

  /** A non-negative decimal in {@code [from, to)}, or -1 when it is not one (or too long). */
  static long decimal(ByteBuffer b, int from, int to) {
    if (from >= to || to - from > 18) {
      return -1;
    }
    long v = 0;
    for (int i = from; i < to; i++) {
      int c = b.get(i) - '0';
      if (c < 0 || c > 9) {
        return -1;
      }
      v = v * 10 + c;
    }
    return v;
  }

  /** Whether {@code c} may appear in a header field name (an RFC 9110 token character). */
  static boolean tokenChar(int c) {
    return c > ' ' && c < 127 && c != ':' && c != '"' && c != '(' && c != ')' && c != ','
        && c != '/' && c != ';' && c != '<' && c != '=' && c != '>' && c != '?' && c != '@'
        && c != '[' && c != '\\' && c != ']' && c != '{' && c != '}';
  }

  /** Copies {@code [from, to)} of {@code src} to {@code dst} at its position. */
  static void copy(ByteBuffer src, int from, int to, ByteBuffer dst) {
    // absolute bulk put: no view buffer per call (this runs for every header line relayed)
    dst.put(dst.position(), src, from, to - from);
    dst.position(dst.position() + to - from);
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  static String string(ByteBuffer b, int from, int to) {
    byte[] bytes = new byte[to - from];
    b.get(from, bytes);
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  /** The target of the request line that starts {@code head} (a request the relay took). */
  static String target(byte[] head) {
    ByteBuffer b = ByteBuffer.wrap(head);
    int lineEnd = indexOf(b, (byte) '\r', 0, head.length);
    int sp1 = indexOf(b, (byte) ' ', 0, lineEnd);
    int sp2 = indexOf(b, (byte) ' ', sp1 + 1, lineEnd);
    return string(b, sp1 + 1, sp2);
  }

  /**
   * The value of the first field named {@code lower} in the request head that starts {@code head},
   * without surrounding blanks; null when it has none.
   */
  static String field(byte[] head, byte[] lower) {
    ByteBuffer b = ByteBuffer.wrap(head);
    int line = indexOf(b, (byte) '\n', 0, head.length) + 1;
    while (line > 0 && line < head.length && head[line] != '\r') {
      int eol = indexOf(b, (byte) '\r', line, head.length);
      if (eol < 0) {
        return null;
      }
      int colon = indexOf(b, (byte) ':', line, eol);
      if (colon > line && equalsLower(b, line, colon, lower)) {
        int v = skipBlanks(b, colon + 1, eol);
        return string(b, v, trimBlanks(b, v, eol));
      }
      line = eol + 2;
    }
    return null;
  }

  /** Takes the data of a chunked body, without its framing. */
  interface Data {
    /**
     * Takes {@code [from, to)} of {@code b}; must leave {@code b}'s position and limit as they
     * were.
     */
    void data(ByteBuffer b, int from, int to);
  }

  /**
   * Follows a chunked body through the bytes that arrive; {@link #scan} says where it ends and,
   * when asked, hands out the data without the framing. Extensions and trailers are skipped, not
   * checked: the relay passes the bytes on unchanged to HTTP/1.1 clients, which parse them, and
   * drops them for HTTP/2 ones.
   */
  static final class Chunked {
    private static final int SIZE = 0;
    private static final int EXTENSION = 1;
    private static final int SIZE_LF = 2;
    private static final int DATA = 3;
    private static final int DATA_CR = 4;
    private static final int DATA_LF = 5;
    private static final int TRAILER_START = 6;
    private static final int TRAILER_LINE = 7;
    private static final int END_LF = 8;

    private int state = SIZE;
    private long size;
    private boolean digits;

    void reset() {
      state = SIZE;
      size = 0;
      digits = false;
    }

    /**
     * Reads {@code [from, to)}, giving each piece of chunk data to {@code sink} unless it is null.
     *
     * @return the index just past the end of the body, -1 when the body goes on, or -2 when the
     *     bytes are not a chunked body
     */
    int scan(ByteBuffer b, int from, int to, Data sink) {
      int i = from;
      while (i < to) {
        switch (state) {
          case DATA -> {
            long n = Math.min(size, to - i);
            if (sink != null && n > 0) {
              sink.data(b, i, i + (int) n);
            }
            size -= n;
            i += (int) n;
            if (size == 0) {
              state = DATA_CR;
            }
          }
          case SIZE -> {
            int c = b.get(i++);
            int d = Character.digit(c, 16);
            if (d >= 0) {
              if (size > (Long.MAX_VALUE >> 4)) {
                return -2;
              }
              size = (size << 4) | d;
              digits = true;
            } else if (c == ';' || c == ' ' || c == '\t') {
              state = EXTENSION;
            } else if (c == '\r') {
              state = SIZE_LF;
            } else {
              return -2;
            }
          }
          case EXTENSION -> {
            if (b.get(i++) == '\r') {
              state = SIZE_LF;
            }
          }
          case SIZE_LF -> {
            if (b.get(i++) != '\n' || !digits) {
              return -2;
            }
            digits = false;
            state = size == 0 ? TRAILER_START : DATA;
          }
          case DATA_CR -> {
            if (b.get(i++) != '\r') {
              return -2;
            }
            state = DATA_LF;
          }
          case DATA_LF -> {
            if (b.get(i++) != '\n') {
              return -2;
            }
            state = SIZE;
          }
          case TRAILER_START -> {
            state = b.get(i++) == '\r' ? END_LF : TRAILER_LINE;
          }
          case TRAILER_LINE -> {
            if (b.get(i++) == '\n') {
              state = TRAILER_START;
            }
          }
          case END_LF -> {
            if (b.get(i++) != '\n') {
              return -2;
            }
            reset();
            return i;
          }
          default -> throw new IllegalStateException("chunk state " + state);
        }
      }
      return -1;
    }
  }
}
