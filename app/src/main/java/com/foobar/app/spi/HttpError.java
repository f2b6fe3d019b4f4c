package com.foobar.app.spi;

/**
 * Thrown by a route (or by {@link Request#body}) to answer with an error status and the JSON body
 * {@code {"error": error, "detail": detail}}.
 */
public final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String error;

  /**
   * @param status a 4xx or 5xx status
   * @param error a short stable code, e.g. {@code not_found}, {@code code_taken}
   * @param detail a sentence for a person, e.g. {@code no link with code 'abc'}
   */
  public HttpError(int status, String error, String detail) {
    super(detail);
    if (status < 400 || status > 599) {
      throw new IllegalArgumentException("an error status is 4xx or 5xx, got " + status);
    }
    this.status = status;
    this.error = error;
  }

  public int status() {
    return status;
  }

  /** The short code of the {@code error} field. */
  public String error() {
    return error;
  }

  /** The sentence of the {@code detail} field. */
  public String detail() {
    return getMessage();
  }
}
