package com.foobar.lb;

import java.util.Optional;

/** The bodies of the statuses the lb answers itself: small JSON when the client accepts it. */
final class ErrorPages {
  private ErrorPages() {}

  /** A page: its content type and body. */
  record Page(String contentType, String body) {}

  /** The page for {@code status}, empty for a status the lb does not answer itself. */
  static Optional<Page> of(int status, boolean json) {
    String code;
    String message;
    switch (status) {
      case 502 -> {
        code = "bad_gateway";
        message = "no backend could answer";
      }
      case 503 -> {
        code = "service_unavailable";
        message = "no backend is available right now";
      }
      case 504 -> {
        code = "gateway_timeout";
        message = "the backend did not answer in time";
      }
      case 400 -> {
        code = "bad_request";
        message = "the request body broke off";
      }
      case 408 -> {
        code = "request_timeout";
        message = "the request was not received in time";
      }
      case 413 -> {
        code = "payload_too_large";
        message = "the request body is too large";
      }
      default -> {
        return Optional.empty();
      }
    }
    if (json) {
      return Optional.of(
          new Page(
              "application/json",
              "{\"error\":\"" + code + "\",\"message\":\"" + message + "\"}\n"));
    }
    return Optional.of(
        new Page(
            "text/html; charset=utf-8",
            "<!doctype html><title>"
                + status
                + "</title><h1>"
                + status
                + "</h1><p>"
                + message
                + "</p>\n"));
  }

  /** Whether a request's {@code Accept} header asks for JSON. */
  static boolean wantsJson(String accept) {
    return accept != null && accept.contains("json");
  }
}
