package com.foobar.core;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/** Collects the log events of one logger while open. */
public final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  public LogCapture(Class<?> type) {
    this(type.getName());
  }

  public LogCapture(String name) {
    logger = (Logger) LoggerFactory.getLogger(name);
    appender.start();
    logger.addAppender(appender);
  }

  /** Every event so far. */
  public List<ILoggingEvent> all() {
    synchronized (appender.list) {
      return List.copyOf(appender.list);
    }
  }

  /** The events whose key-value {@code event} is {@code name}. */
  public List<ILoggingEvent> events(String name) {
    synchronized (appender.list) {
      return appender.list.stream().filter(e -> name.equals(value(e, "event").orElse(""))).toList();
    }
  }

  public static Optional<String> value(ILoggingEvent event, String key) {
    if (event.getKeyValuePairs() == null) {
      return Optional.empty();
    }
    return event.getKeyValuePairs().stream()
        .filter(p -> p.key.equals(key))
        .map(p -> String.valueOf(p.value))
        .findFirst();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
  }
}
