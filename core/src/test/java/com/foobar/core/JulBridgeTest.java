package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Libraries logging through {@code java.util.logging} (wildfly-openssl's start-up line) reach
 * logback, so they print as JSON lines like everything else, and only at logback's levels.
 */
class JulBridgeTest {
  @Test
  void julRecords_reachLogback_atLogbacksLevels() {
    java.util.logging.Logger jul =
        java.util.logging.Logger.getLogger(JulBridgeTest.class.getName());
    try (LogCapture log = new LogCapture(JulBridgeTest.class)) {
      jul.info("OpenSSL Version 3");
      jul.fine("not at INFO");

      List<ILoggingEvent> events = log.all();
      assertThat(events).hasSize(1);
      assertThat(events.get(0).getLevel()).isEqualTo(Level.INFO);
      assertThat(events.get(0).getFormattedMessage()).isEqualTo("OpenSSL Version 3");
    }
    assertThat(jul.isLoggable(java.util.logging.Level.FINE))
        .as("logback's INFO copied to JUL")
        .isFalse();
    java.util.logging.Handler[] handlers = java.util.logging.Logger.getLogger("").getHandlers();
    assertThat(handlers)
        .as("JUL's console handler (text on stderr) replaced by the bridge")
        .hasSize(1)
        .allMatch(h -> h instanceof SLF4JBridgeHandler);
  }
}
