package com.foobar.app;

/**
 * The lexical safety check on a decoded request path, before it touches the file system. The caller
 * still resolves the path against the root and checks the real path stays inside it.
 */
final class RequestPaths {

  private RequestPaths() {}

  /**
   * Whether {@code path} (decoded, starting with {@code /}, or empty) may be looked up: no NUL or
   * other control character, no backslash, no {@code .} or {@code ..} segment, and no {@code %2f}
   * or {@code %5c} left encoded by the server (an encoded slash or backslash must never become a
   * separator later on).
   */
  static boolean isSafe(String path) {
    int n = path.length();
    if (n > 0 && path.charAt(0) != '/') {
      return false;
    }
    int segmentStart = 1;
    for (int i = 0; i < n; i++) {
      char c = path.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '\\') {
        return false;
      }
      if (c == '%' && i + 2 < n) {
        char high = path.charAt(i + 1);
        char low = Character.toLowerCase(path.charAt(i + 2));
        if ((high == '2' && (low == 'f' || low == 'e')) || (high == '5' && low == 'c')) {
          return false;
        }
      }
      if (c == '/' && i > 0) {
        if (isDots(path, segmentStart, i)) {
          return false;
        }
        segmentStart = i + 1;
      }
    }
    return !isDots(path, segmentStart, n);
  }

  private static boolean isDots(String path, int from, int to) {
    int len = to - from;
    return (len == 1 && path.charAt(from) == '.')
        || (len == 2 && path.charAt(from) == '.' && path.charAt(from + 1) == '.');
  }
}
