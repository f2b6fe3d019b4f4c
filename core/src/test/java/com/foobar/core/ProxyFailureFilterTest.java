package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.io.IOException;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * Undertow's proxy failure, logged as Undertow logs it (JBoss Logging, then SLF4J and logback; the
 * lb's StreamRelayTest has the real one), arrives as one WARN line without a stack trace; the
 * logger's other events are left alone.
 */
class ProxyFailureFilterTest {
  // what UndertowLogger.PROXY_REQUEST_LOGGER is (naming that class here makes javac warn about
  // its annotations, which are not on the class path)
  private static final Logger UNDERTOW = Logger.getLogger(ProxyFailureFilter.LOGGER);

  @Test
  void proxyRequestFailed_becomesOneWarnLine_withItsCauses() {
    try (LogCapture log = new LogCapture(ProxyFailureFilter.LOGGER)) {
      IOException failure =
          new IOException("UT001000: Connection closed", new SSLHandshakeException("bad cert"));
      UNDERTOW.errorf(failure, "UT005028: Proxy request to %s failed", "/upload");

      List<ILoggingEvent> events = log.all();
      assertThat(events).hasSize(1);
      ILoggingEvent e = events.get(0);
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getThrowableProxy()).isNull();
      assertThat(LogCapture.value(e, "event")).hasValue("proxy.request_failed");
      assertThat(e.getFormattedMessage())
          .isEqualTo(
              "UT005028: Proxy request to /upload failed: java.io.IOException: UT001000:"
                  + " Connection closed; caused by javax.net.ssl.SSLHandshakeException: bad cert");
    }
  }

  @Test
  void theSameFailureRepeated_isOneLine_anotherOneIsNot() {
    try (LogCapture log = new LogCapture(ProxyFailureFilter.LOGGER)) {
      IOException closed = new IOException("UT001000: Connection closed");
      for (int i = 0; i < 3; i++) {
        UNDERTOW.errorf(closed, "UT005028: Proxy request to %s failed", "/same");
      }
      UNDERTOW.errorf(closed, "UT005028: Proxy request to %s failed", "/other");
      UNDERTOW.errorf(closed, "UT005028: Proxy request to %s failed", "/same");

      assertThat(log.all())
          .extracting(ILoggingEvent::getFormattedMessage)
          .containsExactly(
              "UT005028: Proxy request to /same failed: java.io.IOException: UT001000: Connection"
                  + " closed",
              "UT005028: Proxy request to /other failed: java.io.IOException: UT001000:"
                  + " Connection closed",
              "UT005028: Proxy request to /same failed: java.io.IOException: UT001000: Connection"
                  + " closed");
    }
  }

  @Test
  void proxyRequestTimedOut_becomesAWarnLine() {
    try (LogCapture log = new LogCapture(ProxyFailureFilter.LOGGER)) {
      UNDERTOW.errorf("UT005027: Timing out request to %s", "/127.0.0.1:8081/slow");

      List<ILoggingEvent> events = log.all();
      assertThat(events).hasSize(1);
      assertThat(events.get(0).getLevel()).isEqualTo(Level.WARN);
      assertThat(LogCapture.value(events.get(0), "event")).hasValue("proxy.request_timed_out");
      assertThat(events.get(0).getFormattedMessage())
          .isEqualTo("UT005027: Timing out request to /127.0.0.1:8081/slow");
    }
  }

  @Test
  void otherErrors_ofTheSameLogger_keepTheirLevelAndStackTrace() {
    try (LogCapture log = new LogCapture(ProxyFailureFilter.LOGGER)) {
      UNDERTOW.error("UT005029: something else", new IOException("boom"));
      UNDERTOW.warn("UT005028: not an error", new IOException("boom"));

      List<ILoggingEvent> events = log.all();
      assertThat(events).hasSize(2);
      assertThat(events.get(0).getLevel()).isEqualTo(Level.ERROR);
      assertThat(events).allMatch(e -> e.getThrowableProxy() != null);
    }
  }
}
