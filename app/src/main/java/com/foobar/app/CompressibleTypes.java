package com.foobar.app;

import java.util.List;
import java.util.Locale;

/**
 * The media types worth compressing, e.g. {@code text/*}, {@code application/javascript}. A type
 * matches on its {@code type/subtype} part, ignoring parameters and case; {@code type/*} matches
 * every subtype.
 */
final class CompressibleTypes {

  private final List<String> exact;
  private final List<String> prefixes;

  CompressibleTypes(List<String> patterns) {
    this.exact =
        patterns.stream()
            .map(p -> p.trim().toLowerCase(Locale.ROOT))
            .filter(p -> !p.endsWith("/*"))
            .toList();
    this.prefixes =
        patterns.stream()
            .map(p -> p.trim().toLowerCase(Locale.ROOT))
            .filter(p -> p.endsWith("/*"))
            .map(p -> p.substring(0, p.length() - 1))
            .toList();
  }

  /** Whether a {@code Content-Type} value (parameters allowed) is compressible. */
  boolean matches(String contentType) {
    int semicolon = contentType.indexOf(';');
    String type =
        (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
            .trim()
            .toLowerCase(Locale.ROOT);
    if (exact.contains(type)) {
      return true;
    }
    for (String prefix : prefixes) {
      if (type.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}
