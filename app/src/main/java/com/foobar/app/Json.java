package com.foobar.app;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.foobar.app.spi.HttpError;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one {@link ObjectMapper} of application routes, and the JSON error bodies {@code {"error":
 * ..., "detail": ...}} every app answer shares.
 *
 * <p>Binding refuses unknown properties and trailing tokens; an absent field binds as {@code null}
 * (optional fields stay possible), so applications check the fields they require. Binding failures
 * become {@code 400 bad_request} with a short detail that names the field or the position, never a
 * Java type.
 */
final class Json {

  /** The application JSON type, without parameters. */
  static final String TYPE = "application/json";

  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          // the parser's messages quote the input, which is the client's own
          .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
          .build();

  private Json() {}

  /** Binds {@code body} to {@code type}; 400 with a short detail when it does not fit. */
  static <T> T read(byte[] body, Class<T> type) {
    if (body.length == 0) {
      throw new HttpError(400, "bad_request", "the request body is empty; expected JSON");
    }
    try {
      return MAPPER.readValue(body, type);
    } catch (JsonProcessingException e) {
      throw new HttpError(400, "bad_request", detail(e));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A short, type-free description of why {@code e} refused the input. */
  static String detail(JsonProcessingException e) {
    if (e instanceof JsonParseException) {
      return "malformed JSON" + at(e.getLocation());
    }
    if (e instanceof UnrecognizedPropertyException u) {
      return "unknown field '" + path(u, u.getPropertyName()) + "'";
    }
    if (e instanceof ValueInstantiationException v) {
      // a record's compact constructor refused the values; its message is the application's own
      return v.getCause() instanceof IllegalArgumentException iae && iae.getMessage() != null
          ? "invalid body: " + iae.getMessage()
          : "invalid body" + fieldOf(v);
    }
    if (e instanceof InvalidFormatException f) {
      return "field '" + path(f, "") + "' has an invalid value";
    }
    if (e instanceof MismatchedInputException m) {
      String message = String.valueOf(m.getOriginalMessage());
      if (message.startsWith("Missing required creator property")) {
        return "missing field '" + missingName(message, m) + "'";
      }
      if (message.startsWith("Null value for creator property")) {
        return "field '" + missingName(message, m) + "' must not be null";
      }
      if (message.startsWith("Trailing token")) {
        return "malformed JSON: more than one value" + at(m.getLocation());
      }
      return m.getPath().isEmpty()
          ? "the body has the wrong shape" + at(m.getLocation())
          : "field '" + path(m, "") + "' has the wrong type";
    }
    return "malformed JSON" + at(e.getLocation());
  }

  /** The name between the first pair of single quotes of a Jackson message, else the path. */
  private static String missingName(String message, JsonMappingException e) {
    int start = message.indexOf('\'');
    int end = start < 0 ? -1 : message.indexOf('\'', start + 1);
    return end > start ? message.substring(start + 1, end) : path(e, "");
  }

  private static String fieldOf(JsonMappingException e) {
    return e.getPath().isEmpty() ? "" : " at '" + path(e, "") + "'";
  }

  /** {@code a.b[2].c}: the JSON path of the failing value (plus {@code last} when not in it). */
  private static String path(JsonMappingException e, String last) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    if (!last.isEmpty() && !b.toString().endsWith(last)) {
      b.append(b.length() == 0 ? "" : ".").append(last);
    }
    return b.toString();
  }

  private static String at(JsonLocation location) {
    return location == null || location.getLineNr() < 0
        ? ""
        : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  /** {@code {"error": error, "detail": detail}}, plus {@code extra} fields in order. */
  static byte[] error(String error, String detail, Map<String, String> extra) {
    Map<String, String> body = new LinkedHashMap<>();
    body.put("error", error);
    body.put("detail", detail);
    body.putAll(extra);
    try {
      return MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a map of strings always serializes", e);
    }
  }

  /**
   * Answers with a JSON error body ({@code no-store}); the exchange ends. The caller has checked
   * that the response has not started.
   */
  static void sendError(HttpServerExchange exchange, int status, String error, String detail) {
    sendError(exchange, status, error, detail, Map.of());
  }

  static void sendError(
      HttpServerExchange exchange,
      int status,
      String error,
      String detail,
      Map<String, String> extra) {
    send(exchange, status, error(error, detail, extra));
  }

  /** Sends {@code body} as {@code application/json} with {@code Cache-Control: no-store}. */
  static void send(HttpServerExchange exchange, int status, byte[] body) {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, TYPE);
    exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.length);
    exchange.getResponseSender().send(ByteBuffer.wrap(body));
  }
}
