package com.foobar.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code links} app through a whole backend on the embedded database. */
class LinksTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private BackendServer server;

  @BeforeEach
  void start() throws Exception {
    server =
        BackendServer.start(dir, "  limits: {max-body-size: 4KiB}\n  apps: {links: {prefix: /}}\n");
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private long rows() {
    return server.database.read(
        tx -> tx.queryOne("SELECT COUNT(*) FROM links", r -> r.getLong(1)).orElseThrow());
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
    return JSON.readTree(response.body());
  }

  @Test
  void create_thenRedirect_thenStats() throws Exception {
    HttpResponse<String> created =
        server.postJson("/api/links", "{\"url\":\"https://example.com/x?y=1\"}");

    assertThat(created.statusCode()).isEqualTo(201);
    JsonNode link = json(created);
    String code = link.path("code").asText();
    assertThat(link.path("short").asText()).isEqualTo(server.base + "/r/" + code);
    assertThat(created.headers().firstValue("location")).contains("/api/links/" + code);

    HttpResponse<String> redirect = server.get("/r/" + code);
    assertThat(redirect.statusCode()).isEqualTo(302);
    assertThat(redirect.headers().firstValue("location")).contains("https://example.com/x?y=1");

    JsonNode stats = json(server.get("/api/links/" + code));
    assertThat(stats.path("url").asText()).isEqualTo("https://example.com/x?y=1");
    assertThat(stats.path("clicks").asLong()).isEqualTo(1);
  }

  @Test
  void short_followsTheForwardedProto_andHost() {
    byte[] body =
        "{\"url\":\"https://example.com/\",\"code\":\"fwd\"}".getBytes(StandardCharsets.UTF_8);
    String response =
        server.raw(
            "POST /api/links HTTP/1.1\r\nHost: www.foobar.com\r\nX-Forwarded-Proto: https\r\n"
                + "Content-Type: application/json\r\nConnection: close\r\nContent-Length: "
                + body.length,
            body);

    assertThat(response)
        .startsWith("HTTP/1.1 201")
        .contains("\"short\":\"https://www.foobar.com/r/fwd\"");
  }

  @Test
  void unknownCode_is404Json_onRedirectAndStats() throws Exception {
    HttpResponse<String> redirect = server.get("/r/nothing");
    assertThat(redirect.statusCode()).isEqualTo(404);
    assertThat(json(redirect).path("error").asText()).isEqualTo("not_found");
    assertThat(server.get("/api/links/nothing").statusCode()).isEqualTo(404);
  }

  @Test
  void codes_areCaseSensitive() throws Exception {
    assertThat(
            server
                .postJson("/api/links", "{\"url\":\"https://a.example/\",\"code\":\"Abc\"}")
                .statusCode())
        .isEqualTo(201);
    assertThat(
            server
                .postJson("/api/links", "{\"url\":\"https://b.example/\",\"code\":\"abc\"}")
                .statusCode())
        .isEqualTo(201);

    assertThat(server.get("/r/abc").headers().firstValue("location"))
        .contains("https://b.example/");
    assertThat(server.get("/r/Abc").headers().firstValue("location"))
        .contains("https://a.example/");
  }

  @Test
  void rejectedRequests_answerTheStatedError_andWriteNothing() throws Exception {
    assertThat(
            server
                .postJson("/api/links", "{\"url\":\"https://example.com/\",\"code\":\"taken\"}")
                .statusCode())
        .isEqualTo(201);
    long before = rows();

    record Case(String what, int status, String error, HttpResponse<String> response) {}
    String longUrl = "https://example.com/" + "a".repeat(2048);
    Case[] cases = {
      new Case(
          "ftp url",
          400,
          "invalid_url",
          server.postJson("/api/links", "{\"url\":\"ftp://example.com/\"}")),
      new Case("no url", 400, "invalid_url", server.postJson("/api/links", "{}")),
      new Case(
          "2049+ chars",
          400,
          "invalid_url",
          server.postJson("/api/links", "{\"url\":\"" + longUrl.substring(0, 2049) + "\"}")),
      new Case(
          "bad code",
          400,
          "invalid_code",
          server.postJson("/api/links", "{\"url\":\"https://example.com/\",\"code\":\"a b\"}")),
      new Case(
          "taken code",
          409,
          "code_taken",
          server.postJson("/api/links", "{\"url\":\"https://other.example/\",\"code\":\"taken\"}")),
      new Case("malformed", 400, "bad_request", server.postJson("/api/links", "{\"url\": ")),
      new Case("wrong shape", 400, "bad_request", server.postJson("/api/links", "[1, 2]")),
      new Case(
          "unknown field",
          400,
          "bad_request",
          server.postJson("/api/links", "{\"url\":\"https://example.com/\",\"evil\":1}")),
      new Case(
          "not json",
          415,
          "unsupported_media_type",
          server.send(
              "POST",
              "/api/links",
              "url=https://example.com/",
              "Content-Type",
              "application/x-www-form-urlencoded")),
      new Case(
          "too large",
          413,
          "payload_too_large",
          server.postJson(
              "/api/links", "{\"url\":\"https://example.com/" + "a".repeat(5000) + "\"}")),
      new Case(
          "wrong method", 405, "method_not_allowed", server.send("DELETE", "/api/links/taken", "")),
      new Case("unknown route", 404, "not_found", server.get("/api/links/taken/more")),
    };

    for (Case c : cases) {
      assertThat(c.response().statusCode()).as(c.what()).isEqualTo(c.status());
      JsonNode body = json(c.response());
      assertThat(body.path("error").asText()).as(c.what()).isEqualTo(c.error());
      assertThat(body.path("detail").asText())
          .as(c.what())
          .isNotBlank()
          .doesNotContain("Exception");
    }
    assertThat(rows()).as("rows after rejected requests").isEqualTo(before);
    assertThat(server.get("/r/taken").headers().firstValue("location"))
        .contains("https://example.com/");
  }

  @Test
  void chunkedBody_overTheLimit_is413_andWritesNothing() {
    long before = rows();
    byte[] body =
        ("{\"url\":\"https://example.com/" + "b".repeat(6000) + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    StringBuilder chunked = new StringBuilder();
    for (int i = 0; i < body.length; i += 1000) {
      int n = Math.min(1000, body.length - i);
      chunked
          .append(Integer.toHexString(n))
          .append("\r\n")
          .append(new String(body, i, n, StandardCharsets.UTF_8))
          .append("\r\n");
    }
    chunked.append("0\r\n\r\n");

    String response =
        server.raw(
            "POST /api/links HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close",
            chunked.toString().getBytes(StandardCharsets.UTF_8));

    assertThat(response).startsWith("HTTP/1.1 413").contains("payload_too_large");
    assertThat(rows()).isEqualTo(before);
  }
}
