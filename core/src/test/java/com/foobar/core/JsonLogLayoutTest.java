package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

class JsonLogLayoutTest {
  private final ObjectMapper json = new ObjectMapper();

  private String layout(LoggingEvent event) {
    LoggerContext context = new LoggerContext();
    context.putProperty("role", "backend");
    context.putProperty("node", "web-01");
    context.setMDCAdapter(new LogbackMDCAdapter());
    JsonLogLayout layout = new JsonLogLayout();
    layout.setContext(context);
    layout.start();
    event.setLoggerContext(context);
    return layout.doLayout(event);
  }

  private static LoggingEvent event(String message, Throwable error) {
    LoggerContext context = new LoggerContext();
    LoggingEvent e =
        new LoggingEvent(
            "fqcn", context.getLogger("com.foobar.app.Backend"), Level.WARN, message, error, null);
    e.setTimeStamp(1_700_000_000_000L);
    return e;
  }

  @Test
  void mdcEntries_areFields_butKeyValuePairsAndStandardFieldsWin() throws Exception {
    LoggingEvent e = event("route ran", null);
    List<KeyValuePair> kv = new ArrayList<>();
    kv.add(new KeyValuePair("app", "links"));
    e.setKeyValuePairs(kv);
    e.setMDCPropertyMap(Map.of("request_id", "rid-1", "app", "from-mdc", "level", "x"));
    JsonNode n = json.readTree(layout(e));
    assertThat(n.path("request_id").asText()).isEqualTo("rid-1");
    assertThat(n.path("app").asText()).isEqualTo("links");
    assertThat(n.path("level").asText()).isEqualTo("WARN");
    List<String> names = new ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    assertThat(names).doesNotHaveDuplicates();
  }

  @Test
  void line_isOneJsonObjectWithStandardFields() throws Exception {
    LoggingEvent e = event("backend \"quoted\" ready", null);
    List<KeyValuePair> kv = new ArrayList<>();
    kv.add(new KeyValuePair("event", "backend.ready"));
    kv.add(new KeyValuePair("port", 8081));
    e.setKeyValuePairs(kv);
    String line = layout(e);
    assertThat(line).endsWith("\n");
    assertThat(line.strip()).doesNotContain("\n");
    JsonNode n = json.readTree(line);
    assertThat(n.path("ts").asText()).isEqualTo("2023-11-14T22:13:20Z");
    assertThat(n.path("level").asText()).isEqualTo("WARN");
    assertThat(n.path("logger").asText()).isEqualTo("com.foobar.app.Backend");
    assertThat(n.path("event").asText()).isEqualTo("backend.ready");
    assertThat(n.path("msg").asText()).isEqualTo("backend \"quoted\" ready");
    assertThat(n.path("role").asText()).isEqualTo("backend");
    assertThat(n.path("node").asText()).isEqualTo("web-01");
    assertThat(n.path("port").isNumber()).isTrue();
    assertThat(n.path("port").asInt()).isEqualTo(8081);
  }

  @Test
  void eventWithoutName_isLog_andStackTraceStaysOnOneLine() throws Exception {
    String line = layout(event("failed", new IllegalStateException("boom")));
    assertThat(line.strip()).doesNotContain("\n");
    JsonNode n = json.readTree(line);
    assertThat(n.path("event").asText()).isEqualTo("log");
    assertThat(n.path("error").asText()).contains("IllegalStateException: boom");
  }

  @Test
  void roleKeyValue_overridesProcessRole() throws Exception {
    LoggingEvent e = event("x", null);
    e.setKeyValuePairs(new ArrayList<>(List.of(new KeyValuePair("role", "lb"))));
    assertThat(json.readTree(layout(e)).path("role").asText()).isEqualTo("lb");
  }
}
