package com.foobar.core;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.event.KeyValuePair;

/**
 * Renders a log event as one JSON object on one line: {@code ts}, {@code level}, {@code logger},
 * {@code event}, {@code msg}, {@code role}, {@code node}, then the event's key/value pairs, then
 * {@code error} (the stack trace) when there is one.
 *
 * <p>{@code event} is the stable name operators group by: code sets it with {@code
 * log.atInfo().addKeyValue("event", "backend.ready")}; events without one get {@code log}. {@code
 * role} and {@code node} come from the logger context's properties of the same names (set by the
 * launcher); a key/value pair named {@code role} overrides the process-wide value.
 *
 * <p>The entries of the event's MDC follow the key/value pairs (a key/value pair of the same name
 * wins): the backend puts {@code request_id} there while it runs an application's route, so every
 * event of that request carries the id the lb sent.
 */
public final class JsonLogLayout extends LayoutBase<ILoggingEvent> {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Set<String> STANDARD =
      Set.of("ts", "level", "logger", "event", "msg", "role", "node", "error");

  @Override
  public String doLayout(ILoggingEvent event) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      String eventName = "log";
      String role = property("role");
      if (event.getKeyValuePairs() != null) {
        for (KeyValuePair kv : event.getKeyValuePairs()) {
          if (kv.key.equals("event")) {
            eventName = String.valueOf(kv.value);
          } else if (kv.key.equals("role")) {
            role = String.valueOf(kv.value);
          }
        }
      }
      g.writeStartObject();
      g.writeStringField("ts", Instant.ofEpochMilli(event.getTimeStamp()).toString());
      g.writeStringField("level", event.getLevel().toString());
      g.writeStringField("logger", event.getLoggerName());
      g.writeStringField("event", eventName);
      g.writeStringField("msg", event.getFormattedMessage());
      g.writeStringField("role", role);
      g.writeStringField("node", property("node"));
      if (event.getKeyValuePairs() != null) {
        for (KeyValuePair kv : event.getKeyValuePairs()) {
          if (kv.key.equals("event") || kv.key.equals("role")) {
            continue;
          }
          if (kv.value instanceof Number n) {
            g.writeFieldName(kv.key);
            g.writeNumber(n.toString());
          } else if (kv.value instanceof Boolean b) {
            g.writeBooleanField(kv.key, b);
          } else {
            g.writeStringField(kv.key, String.valueOf(kv.value));
          }
        }
      }
      Map<String, String> mdc = event.getMDCPropertyMap();
      if (mdc != null && !mdc.isEmpty()) {
        for (Map.Entry<String, String> e : new TreeMap<>(mdc).entrySet()) {
          if (!STANDARD.contains(e.getKey()) && !hasPair(event, e.getKey())) {
            g.writeStringField(e.getKey(), e.getValue());
          }
        }
      }
      IThrowableProxy error = event.getThrowableProxy();
      if (error != null) {
        g.writeStringField("error", ThrowableProxyUtil.asString(error));
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.append(CoreConstants.LINE_SEPARATOR).toString();
  }

  private static boolean hasPair(ILoggingEvent event, String key) {
    if (event.getKeyValuePairs() == null) {
      return false;
    }
    for (KeyValuePair kv : event.getKeyValuePairs()) {
      if (kv.key.equals(key)) {
        return true;
      }
    }
    return false;
  }

  private String property(String name) {
    String value = getContext() == null ? null : getContext().getProperty(name);
    return value == null ? "-" : value;
  }
}
