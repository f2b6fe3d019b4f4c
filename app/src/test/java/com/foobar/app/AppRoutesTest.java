package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.foobar.core.LogCapture;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Application routes of the test app {@code things} over real HTTP, in a whole backend. */
class AppRoutesTest {
  @TempDir static Path dir;
  static BackendServer server;

  @BeforeAll
  static void start() throws Exception {
    server =
        BackendServer.start(
            dir,
            "  limits: {max-body-size: 1KiB}\n"
                + "  apps:\n"
                + "    links: ~\n"
                + "    things: {prefix: /}\n");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static JsonNode json(HttpResponse<String> response) throws Exception {
    return Json.MAPPER.readTree(response.body());
  }

  @Test
  void variable_isBound_andHandlerRunsOnWorkerThread() throws Exception {
    HttpResponse<String> r = server.get("/api/things/abc");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
    assertThat(json(r).get("id").asText()).isEqualTo("abc");
    // Undertow names worker threads "XNIO-n task-m", IO threads "XNIO-n I/O-m"
    assertThat(json(r).get("thread").asText()).contains("task").doesNotContain("I/O");
  }

  @Test
  void requestId_isInTheMdc_whileTheRouteRuns_andGoneAfter() throws Exception {
    HttpResponse<String> r = server.get("/api/request-id", "X-Request-Id", "rid-abc");
    assertThat(json(r).get("mdc").asText()).isEqualTo("rid-abc");
    // the worker pool is small: later requests without an id reuse the threads of earlier ones
    for (int i = 0; i < 20; i++) {
      assertThat(json(server.get("/api/request-id")).get("mdc").asText()).isEqualTo("-");
    }
  }

  @Test
  void literalSegment_winsOverVariable() throws Exception {
    assertThat(json(server.get("/api/things/special")).get("special").asBoolean()).isTrue();
  }

  @Test
  void head_isAnsweredByGetRoute_withoutBody() {
    HttpResponse<String> r = server.send("HEAD", "/api/things/abc", "");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEmpty();
  }

  @Test
  void unmatchedPath_underAppArea_isJson404() throws Exception {
    for (String path : List.of("/api/things/a/b/c", "/api/things/", "/api/things/a/nope")) {
      HttpResponse<String> r = server.get(path);

      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(json(r).get("error").asText()).isEqualTo("not_found");
      assertThat(json(r).get("detail").asText()).contains(path);
    }
  }

  @Test
  void otherMethod_onMatchedPath_isJson405_withAllow() throws Exception {
    HttpResponse<String> r = server.send("PUT", "/api/things/abc", "");

    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("Allow")).hasValue("DELETE, GET, HEAD");
    assertThat(json(r).get("error").asText()).isEqualTo("method_not_allowed");
  }

  @Test
  void pathOutsideEveryArea_fallsThroughToStaticFiles() {
    assertThat(server.get("/").body()).isEqualTo("static index");
    HttpResponse<String> similar = server.get("/api/thingsx");
    assertThat(similar.statusCode()).isEqualTo(404);
    assertThat(similar.headers().firstValue("Content-Type")).isNotEqualTo("application/json");
  }

  @Test
  void origin_usesForwardedProto_andHost_andHandlerCacheControlWins() throws Exception {
    HttpResponse<String> r =
        server.get("/api/whoami?q=a%20b", "X-Forwarded-Proto", "https", "User-Agent", "t/1");

    JsonNode body = json(r);
    assertThat(body.get("origin").asText()).isEqualTo("https://127.0.0.1:" + server.port());
    assertThat(body.get("remote").asText()).isEqualTo("127.0.0.1");
    assertThat(body.get("q").asText()).isEqualTo("a b");
    assertThat(body.get("agent").asText()).isEqualTo("t/1");
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("max-age=5");
    assertThat(json(server.get("/api/whoami")).get("origin").asText()).startsWith("http://");
  }

  @Test
  void redirect_hasLocation_andNoBody() {
    HttpResponse<String> r = server.get("/go/xyz");

    assertThat(r.statusCode()).isEqualTo(302);
    assertThat(r.headers().firstValue("Location")).hasValue("/api/things/xyz");
    assertThat(r.body()).isEmpty();
  }

  @Test
  void jsonBody_isBound_andReplyHeadersApply() throws Exception {
    HttpResponse<String> r = server.postJson("/api/things", "{\"name\":\"a\",\"size\":3}");

    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.headers().firstValue("X-Test")).hasValue("yes");
    assertThat(json(r).get("size").asInt()).isEqualTo(3);
  }

  @Test
  void jsonWithCharset_isAccepted_otherTypes_are415() throws Exception {
    String body = "{\"name\":\"a\",\"size\":3}";
    HttpResponse<String> charset =
        server.send("POST", "/api/things", body, "Content-Type", "application/json; charset=utf-8");
    HttpResponse<String> text =
        server.send("POST", "/api/things", body, "Content-Type", "text/plain");

    assertThat(charset.statusCode()).isEqualTo(201);
    assertThat(text.statusCode()).isEqualTo(415);
    assertThat(json(text).get("error").asText()).isEqualTo("unsupported_media_type");
  }

  @Test
  void malformedJson_is400_withPosition() throws Exception {
    HttpResponse<String> r = server.postJson("/api/things", "{\"name\": }");

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(json(r).get("error").asText()).isEqualTo("bad_request");
    assertThat(json(r).get("detail").asText()).startsWith("malformed JSON at line 1, column");
    assertThat(r.body()).doesNotContain("Exception", "com.", "java.");
  }

  @Test
  void wrongShape_is400_namingTheField() throws Exception {
    HttpResponse<String> unknown = server.postJson("/api/things", "{\"name\":\"a\",\"x\":1}");
    HttpResponse<String> wrongType =
        server.postJson("/api/things", "{\"name\":\"a\",\"size\":\"big\"}");
    HttpResponse<String> array = server.postJson("/api/things", "[1,2]");

    assertThat(json(unknown).get("detail").asText()).isEqualTo("unknown field 'x'");
    assertThat(json(wrongType).get("detail").asText()).contains("'size'");
    assertThat(array.statusCode()).isEqualTo(400);
    for (HttpResponse<String> r : List.of(unknown, wrongType, array)) {
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(r.body()).doesNotContain("Exception", "com.foobar", "TestApp", "Thing");
    }
  }

  @Test
  void declaredBodyOverLimit_is413_beforeTheBodyIsRead() {
    String response =
        server.raw(
            "POST /api/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 5000",
            new byte[0]);

    assertThat(response).startsWith("HTTP/1.1 413");
    assertThat(response).contains("payload_too_large");
  }

  @Test
  void chunkedBodyOverLimit_is413() {
    byte[] big = new byte[700];
    Arrays.fill(big, (byte) ' ');
    String chunk =
        Integer.toHexString(big.length)
            + "\r\n"
            + new String(big, StandardCharsets.US_ASCII)
            + "\r\n";
    String response =
        server.raw(
            "POST /api/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked",
            (chunk + chunk + "0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));

    assertThat(response).startsWith("HTTP/1.1 413");
    assertThat(response).contains("payload_too_large");
  }

  @Test
  void chunkedBodyUnderLimit_isRead() {
    String json = "{\"name\":\"chunky\",\"size\":1}";
    String response =
        server.raw(
            "POST /api/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close",
            (Integer.toHexString(json.length()) + "\r\n" + json + "\r\n0\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));

    assertThat(response).startsWith("HTTP/1.1 201").contains("chunky");
  }

  @Test
  void handlerException_is500_withErrorId_loggedWithStackTrace() throws Exception {
    HttpResponse<String> r;
    List<ILoggingEvent> events;
    try (LogCapture logs = new LogCapture(RouteRunner.class)) {
      r = server.get("/api/things/t1/boom");
      events = logs.events("app.error");
    }

    assertThat(r.statusCode()).isEqualTo(500);
    JsonNode body = json(r);
    assertThat(body.get("error").asText()).isEqualTo("internal");
    String id = body.get("id").asText();
    assertThat(id).matches("[0-9a-f]{12}");
    assertThat(r.body()).doesNotContain("secret", "Exception", "at com.");
    assertThat(events).hasSize(1);
    ILoggingEvent event = events.get(0);
    assertThat(LogCapture.value(event, "error_id")).hasValue(id);
    assertThat(LogCapture.value(event, "app")).hasValue("things");
    assertThat(LogCapture.value(event, "route")).hasValue("GET /api/things/{id}/boom");
    assertThat(event.getThrowableProxy().getMessage()).isEqualTo("secret internals of t1");
  }

  @Test
  void httpError_keepsItsStatus_andDatabaseUnavailable_is503() throws Exception {
    HttpResponse<String> teapot = server.get("/api/things/t2/teapot");
    HttpResponse<String> db = server.get("/api/things/t2/db");

    assertThat(teapot.statusCode()).isEqualTo(418);
    assertThat(json(teapot).get("error").asText()).isEqualTo("teapot");
    assertThat(json(teapot).get("detail").asText()).isEqualTo("thing t2 is a teapot");
    assertThat(db.statusCode()).isEqualTo(503);
    assertThat(json(db).get("error").asText()).isEqualTo("unavailable");
  }

  @Test
  void requests_areTimedByTemplate_notByPath() {
    server.get("/api/things/m1");
    server.get("/api/things/m2");
    server.get("/api/things/a/b/c");

    var registry = server.metrics.registry();
    // the timer is updated when the exchange completes, just after the client has the answer
    long deadline = System.nanoTime() + 5_000_000_000L;
    long count = 0;
    while (count < 2 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      var timer =
          registry
              .find("http.server.requests")
              .tag("route", "/api/things/{id}")
              .tag("method", "GET")
              .tag("status", "200")
              .timer();
      count = timer == null ? 0 : timer.count();
    }
    assertThat(count).isGreaterThanOrEqualTo(2);
    assertThat(registry.get("http.server.requests").tag("route", "app:things").timers())
        .isNotEmpty();
    assertThat(registry.find("http.server.requests").tag("route", "/api/things/m1").timers())
        .isEmpty();
  }
}
