package com.foobar.app;

import java.util.ArrayList;
import java.util.List;

/**
 * Parsing of a {@code Range: bytes=...} header against a representation length (RFC 9110 §14). Like
 * nginx, a malformed header is ignored (the whole representation is sent); ranges beyond the end
 * are dropped, and when none remains the request is unsatisfiable (416).
 */
final class ByteRanges {

  /** More ranges than this in one request are treated as abuse and the header is ignored. */
  static final int MAX_RANGES = 16;

  /** One satisfiable range, {@code first} and {@code last} inclusive. */
  record Range(long first, long last) {
    long length() {
      return last - first + 1;
    }
  }

  /** Outcome of parsing. */
  sealed interface Result permits Ignore, Unsatisfiable, Satisfiable {}

  /** Send the whole representation (200). */
  record Ignore() implements Result {}

  /** Respond 416 with {@code Content-Range: bytes *}{@code /size}. */
  record Unsatisfiable() implements Result {}

  /** Respond 206 with these ranges, in request order. */
  record Satisfiable(List<Range> ranges) implements Result {
    Satisfiable {
      ranges = List.copyOf(ranges);
    }
  }

  private static final Result IGNORE = new Ignore();
  private static final Result UNSATISFIABLE = new Unsatisfiable();

  private ByteRanges() {}

  static Result parse(String header, long size) {
    String h = header.trim();
    if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
      return IGNORE;
    }
    String[] specs = h.substring(6).split(",", -1);
    if (specs.length > MAX_RANGES) {
      return IGNORE;
    }
    List<Range> ranges = new ArrayList<>(specs.length);
    for (String raw : specs) {
      String spec = raw.trim();
      int dash = spec.indexOf('-');
      if (dash < 0 || spec.indexOf('-', dash + 1) >= 0) {
        return IGNORE;
      }
      long first = number(spec, 0, dash);
      long last = number(spec, dash + 1, spec.length());
      if (dash == 0) {
        if (last <= 0) {
          return last == 0 ? UNSATISFIABLE : IGNORE; // "-0" selects nothing
        }
        if (size > 0) {
          ranges.add(new Range(Math.max(0, size - last), size - 1));
        }
        continue;
      }
      if (first < 0 || (dash + 1 < spec.length() && last < 0)) {
        return IGNORE;
      }
      if (last >= 0 && last < first) {
        return IGNORE;
      }
      if (first < size) {
        ranges.add(new Range(first, last < 0 ? size - 1 : Math.min(last, size - 1)));
      }
    }
    return ranges.isEmpty() ? UNSATISFIABLE : new Satisfiable(ranges);
  }

  /** Non-negative decimal in s[from, to), or -1 when empty or not a number (or too long). */
  private static long number(String s, int from, int to) {
    if (from >= to || to - from > 18) {
      return -1;
    }
    long value = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }
}
