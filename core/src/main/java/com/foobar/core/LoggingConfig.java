package com.foobar.core;

/**
 * Logging shared by every role: one JSON object per line on stdout.
 *
 * @param level root level: {@code trace}, {@code debug}, {@code info}, {@code warn} or {@code
 *     error}
 */
public record LoggingConfig(Level level) {

  /** Log levels, as in SLF4J. */
  public enum Level {
    TRACE,
    DEBUG,
    INFO,
    WARN,
    ERROR
  }
}
