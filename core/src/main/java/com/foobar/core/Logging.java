package com.foobar.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Process-wide logging set-up: the role and node every JSON line carries, and the root level. */
public final class Logging {
  private Logging() {}

  /**
   * Sets the {@code role} and {@code node} fields of every line and the root level.
   *
   * @param role the role(s) this process runs, e.g. {@code backend} or {@code all}
   * @param node this process's node name
   * @param level the root level
   */
  public static void configure(String role, String node, LoggingConfig.Level level) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.putProperty("role", role);
      context.putProperty("node", node);
      context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(level.name()));
    }
  }

  /** The {@code role} or {@code node} value of {@link #configure}; {@code -} before it ran. */
  static String property(String name) {
    String value =
        LoggerFactory.getILoggerFactory() instanceof LoggerContext context
            ? context.getProperty(name)
            : null;
    return value == null ? "-" : value;
  }
}
