package com.foobar.core;

import java.util.Locale;

/**
 * A size in bytes, written {@code 512}, {@code 512B}, {@code 64KiB}, {@code 1MiB}, {@code 2GiB}
 * (powers of 1024) or {@code 10KB}, {@code 5MB}, {@code 1GB} (powers of 1000).
 *
 * @param bytes the size; never negative
 */
public record DataSize(long bytes) {

  public DataSize {
    if (bytes < 0) {
      throw new IllegalArgumentException("size must not be negative");
    }
  }

  /**
   * Parses a size.
   *
   * @throws IllegalArgumentException when {@code text} is not a size
   */
  public static DataSize parse(String text) {
    String t = text.trim();
    int i = 0;
    while (i < t.length() && Character.isDigit(t.charAt(i))) {
      i++;
    }
    if (i == 0) {
      throw new IllegalArgumentException("expected a size like 512, 64KiB, 1MiB or 1GB");
    }
    long number = Long.parseLong(t.substring(0, i));
    String unit = t.substring(i).trim().toLowerCase(Locale.ROOT);
    long factor =
        switch (unit) {
          case "", "b" -> 1L;
          case "kib", "k" -> 1L << 10;
          case "mib", "m" -> 1L << 20;
          case "gib", "g" -> 1L << 30;
          case "kb" -> 1_000L;
          case "mb" -> 1_000_000L;
          case "gb" -> 1_000_000_000L;
          default ->
              throw new IllegalArgumentException(
                  "unknown size unit '"
                      + t.substring(i).trim()
                      + "' (use B, KiB, MiB, GiB, KB, MB, GB)");
        };
    return new DataSize(Math.multiplyExact(number, factor));
  }

  /** The size as an int, for buffer and limit settings. */
  public int intBytes() {
    return Math.toIntExact(bytes);
  }

  @Override
  public String toString() {
    if (bytes != 0 && bytes % (1L << 30) == 0) {
      return bytes / (1L << 30) + "GiB";
    }
    if (bytes != 0 && bytes % (1L << 20) == 0) {
      return bytes / (1L << 20) + "MiB";
    }
    if (bytes != 0 && bytes % (1L << 10) == 0) {
      return bytes / (1L << 10) + "KiB";
    }
    return bytes + "B";
  }
}
