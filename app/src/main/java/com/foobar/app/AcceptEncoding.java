package com.foobar.app;

/**
 * Which content codings an {@code Accept-Encoding} header allows (RFC 9110 §12.5.3). A coding is
 * allowed when listed with a q-value above zero, or not listed while {@code *} has a q-value above
 * zero. Parsed without allocating: this runs on cache hits.
 */
final class AcceptEncoding {

  /** Bit set when brotli ({@code br}) is allowed. */
  static final int BR = 1;

  /** Bit set when gzip ({@code gzip} or {@code x-gzip}) is allowed. */
  static final int GZIP = 2;

  private AcceptEncoding() {}

  /** The allowed codings among {@link #BR} and {@link #GZIP}, as bits. */
  static int allowed(String header) {
    int br = -1; // q-values in thousandths; -1: not listed
    int gzip = -1;
    int star = -1;
    int n = header.length();
    int i = 0;
    while (i < n) {
      while (i < n
          && (header.charAt(i) == ' ' || header.charAt(i) == '\t' || header.charAt(i) == ',')) {
        i++;
      }
      int start = i;
      while (i < n
          && header.charAt(i) != ','
          && header.charAt(i) != ';'
          && header.charAt(i) != ' '
          && header.charAt(i) != '\t') {
        i++;
      }
      int end = i;
      int q = 1000;
      while (i < n && header.charAt(i) != ',') {
        char c = header.charAt(i);
        if ((c == 'q' || c == 'Q') && i + 1 < n && header.charAt(i + 1) == '=') {
          q = parseQ(header, i + 2);
        }
        i++;
      }
      if (end > start) {
        if (is(header, start, end, "br")) {
          br = q;
        } else if (is(header, start, end, "gzip") || is(header, start, end, "x-gzip")) {
          gzip = q;
        } else if (is(header, start, end, "*")) {
          star = q;
        }
      }
    }
    int bits = 0;
    if (br > 0 || (br < 0 && star > 0)) {
      bits |= BR;
    }
    if (gzip > 0 || (gzip < 0 && star > 0)) {
      bits |= GZIP;
    }
    return bits;
  }

  private static boolean is(String s, int start, int end, String token) {
    return end - start == token.length() && s.regionMatches(true, start, token, 0, token.length());
  }

  /** Parses {@code 0}, {@code 0.5}, {@code 1.000} into thousandths; malformed → 0 (not allowed). */
  private static int parseQ(String s, int i) {
    int n = s.length();
    if (i >= n) {
      return 0;
    }
    char first = s.charAt(i);
    if (first != '0' && first != '1') {
      return 0;
    }
    int value = (first - '0') * 1000;
    i++;
    if (i < n && s.charAt(i) == '.') {
      i++;
      int scale = 100;
      while (i < n && scale > 0 && Character.isDigit(s.charAt(i))) {
        value += (s.charAt(i) - '0') * scale;
        scale /= 10;
        i++;
      }
    }
    return Math.min(value, 1000);
  }
}
