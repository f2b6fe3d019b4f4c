package com.foobar.app.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.foobar.replication.Database;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import org.slf4j.Logger;

/** What an {@link App} gets from the backend when it starts. */
public interface AppContext {

  /** The site's database (the embedded one when there is no {@code database} section). */
  Database database();

  /**
   * {@code backend.apps.<name>.config}: the application's own settings, an empty mapping when
   * absent.
   */
  JsonNode config();

  /** The process's registry; name meters {@code foobar.app.<name>.*}. */
  MeterRegistry registry();

  /** A logger named {@code app.<name>}; log events carry {@code event} keys like other roles. */
  Logger logger();

  /** The clock to read time from (tests inject a fixed one). */
  Clock clock();

  /** The path prefix the routes are mounted under, e.g. {@code /} or {@code /hello}. */
  String prefix();

  /**
   * Registers a route. {@code template} is relative to the prefix and may hold variables as whole
   * segments, e.g. {@code /api/links/{code}}. Handlers run on worker threads, never on IO threads,
   * so they may block on the database. Every request under a route's leading literal segments that
   * matches no route gets a JSON 404 (or 405 with {@code Allow} when only the method differs).
   */
  void route(String method, String template, Handler handler);

  /** Answers one request. */
  @FunctionalInterface
  interface Handler {
    /**
     * @throws HttpError for an answer other than success, e.g. 404 or 409 with a JSON body
     * @throws Exception anything else becomes 500 with an error id, logged with the stack trace
     */
    Reply handle(Request request) throws Exception;
  }
}
