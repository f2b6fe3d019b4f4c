package com.foobar.app;

import io.undertow.util.DateUtils;
import java.util.Date;

/**
 * Evaluation of conditional request headers against a representation's validators (RFC 9110 §13).
 * The caller applies the precedence of §13.2.2: {@code If-Match}, else {@code If-Unmodified-Since}
 * (412 when false); then {@code If-None-Match}, else {@code If-Modified-Since} (304 when they hit);
 * {@code If-Range} only for range requests.
 */
final class Conditionals {

  private Conditionals() {}

  /**
   * Whether an {@code If-None-Match} list matches {@code etag} by weak comparison: {@code *}, or
   * any listed entity-tag whose opaque part equals ours ({@code W/} prefixes ignored).
   *
   * @param etag our entity-tag, quoted, e.g. {@code "5f3a-400"}
   */
  static boolean noneMatchHits(String header, String etag) {
    return listed(header, etag, false);
  }

  /**
   * Whether an {@code If-Match} list lets the request through: {@code *}, or a listed strong
   * entity-tag equal to {@code etag} (strong comparison: a {@code W/} tag never matches).
   */
  static boolean matchHolds(String header, String etag) {
    return listed(header, etag, true);
  }

  /**
   * Whether {@code If-Unmodified-Since} lets the request through: our modification second is at or
   * before the date. An unparseable date is ignored (the request goes through).
   */
  static boolean unmodifiedSince(String header, long lastModifiedMillis) {
    Date since = DateUtils.parseDate(header);
    return since == null || lastModifiedMillis / 1000 <= since.getTime() / 1000;
  }

  private static boolean listed(String header, String etag, boolean strong) {
    int n = header.length();
    int i = 0;
    while (i < n) {
      char c = header.charAt(i);
      if (c == ' ' || c == '\t' || c == ',') {
        i++;
        continue;
      }
      if (c == '*') {
        return true;
      }
      boolean weak = (c == 'W' || c == 'w') && i + 1 < n && header.charAt(i + 1) == '/';
      if (weak) {
        i += 2;
      }
      int start = i;
      if (i < n && header.charAt(i) == '"') {
        int close = header.indexOf('"', i + 1);
        i = close < 0 ? n : close + 1;
      } else {
        while (i < n && header.charAt(i) != ',') {
          i++;
        }
      }
      if (!(strong && weak)
          && i - start == etag.length()
          && header.regionMatches(start, etag, 0, etag.length())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code If-Modified-Since} says the client's copy is current: the header equals our
   * {@code Last-Modified} text, or parses to a date at or after our modification second. An
   * unparseable date means "modified" (the header is ignored).
   */
  static boolean notModifiedSince(String header, String lastModified, long lastModifiedMillis) {
    if (header.equals(lastModified)) {
      return true;
    }
    Date since = DateUtils.parseDate(header);
    return since != null && lastModifiedMillis / 1000 <= since.getTime() / 1000;
  }

  /**
   * Whether an {@code If-Range} validator lets a range request through: a strong entity-tag equal
   * to ours, or an HTTP date equal to our {@code Last-Modified}. Anything else sends the whole
   * representation.
   */
  static boolean ifRangeHolds(String header, String etag, String lastModified) {
    String value = header.trim();
    if (value.startsWith("\"")) {
      return value.equals(etag);
    }
    if (value.startsWith("W/") || value.startsWith("w/")) {
      return false;
    }
    if (value.equals(lastModified)) {
      return true;
    }
    Date date = DateUtils.parseDate(value);
    Date ours = DateUtils.parseDate(lastModified);
    return date != null && ours != null && date.getTime() == ours.getTime();
  }
}
