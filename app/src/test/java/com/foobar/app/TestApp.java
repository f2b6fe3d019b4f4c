package com.foobar.app;

import com.foobar.app.spi.App;
import com.foobar.app.spi.AppConfigException;
import com.foobar.app.spi.AppContext;
import com.foobar.app.spi.HttpError;
import com.foobar.app.spi.Reply;
import com.foobar.replication.DatabaseException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.MDC;

/** A built-in app of the test class path ({@code META-INF/services} in test resources). */
public final class TestApp implements App {
  static final AtomicInteger stops = new AtomicInteger();

  record Thing(String name, int size) {}

  @Override
  public String name() {
    return "things";
  }

  @Override
  public void start(AppContext context) {
    if (context.config().path("refuse").asBoolean(false)) {
      throw new AppConfigException("refuse", "must be false, got true");
    }
    context.route(
        "GET",
        "/api/things/{id}",
        r -> Reply.ok(Map.of("id", r.param("id"), "thread", Thread.currentThread().getName())));
    context.route("DELETE", "/api/things/{id}", r -> Reply.empty(204));
    context.route("GET", "/api/things/special", r -> Reply.ok(Map.of("special", true)));
    context.route(
        "POST", "/api/things", r -> Reply.json(201, r.body(Thing.class)).header("X-Test", "yes"));
    context.route(
        "GET",
        "/api/things/{id}/boom",
        r -> {
          throw new IllegalStateException("secret internals of " + r.param("id"));
        });
    context.route(
        "GET",
        "/api/things/{id}/teapot",
        r -> {
          throw new HttpError(418, "teapot", "thing " + r.param("id") + " is a teapot");
        });
    context.route(
        "GET",
        "/api/things/{id}/db",
        r -> {
          throw new DatabaseException(
              DatabaseException.Kind.UNAVAILABLE, "pool exhausted", new RuntimeException());
        });
    context.route(
        "GET",
        "/api/whoami",
        r ->
            Reply.ok(
                    Map.of(
                        "origin", r.origin(),
                        "remote", r.remoteAddress(),
                        "q", r.query("q").orElse("-"),
                        "agent", r.header("user-agent").orElse("-")))
                .header("Cache-Control", "max-age=5"));
    context.route(
        "GET",
        "/api/request-id",
        r -> Reply.ok(Map.of("mdc", Objects.requireNonNullElse(MDC.get("request_id"), "-"))));
    context.route("GET", "/go/{code}", r -> Reply.redirect(302, "/api/things/" + r.param("code")));
  }

  @Override
  public void stop() {
    stops.incrementAndGet();
  }
}
