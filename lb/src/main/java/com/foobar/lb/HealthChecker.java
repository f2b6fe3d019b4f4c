package com.foobar.lb;

import com.foobar.core.LbConfig;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * Active health checks: {@code GET <backend><health.path>} every {@code health.interval} (the next
 * check of a backend starts an interval after the previous one ended), each within {@code
 * health.timeout}, on the JDK's non-blocking {@link HttpClient} with the upstream TLS context (that
 * client checks the certificate's host name, as {@link BalancingClient} does for requests). A 2xx
 * is a success, a 503 says the backend is draining, anything else (or no answer) is a failure;
 * {@link Upstream#onCheck} turns them into state.
 */
final class HealthChecker implements AutoCloseable {
  private final List<Upstream> upstreams;
  private final LbConfig.HealthConfig config;
  private final HttpClient client;
  private final ScheduledExecutorService scheduler;

  HealthChecker(
      List<Upstream> upstreams, LbConfig.HealthConfig config, Optional<SSLContext> upstreamTls) {
    this.upstreams = upstreams;
    this.config = config;
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "lb-health");
              t.setDaemon(true);
              return t;
            });
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(config.timeout())
            .executor(scheduler);
    upstreamTls.ifPresent(b::sslContext);
    this.client = b.build();
  }

  /** Starts checking every backend, the first check at once. */
  void start() {
    for (Upstream u : upstreams) {
      scheduler.execute(() -> check(u));
    }
  }

  private void check(Upstream u) {
    if (scheduler.isShutdown()) {
      return;
    }
    HttpRequest request =
        HttpRequest.newBuilder(target(u.url()))
            .timeout(config.timeout())
            .header("User-Agent", "foobar-lb-health")
            .GET()
            .build();
    client
        .sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .whenComplete(
            (response, error) -> {
              if (error != null) {
                u.onCheck(false, false, describe(error));
              } else {
                int status = response.statusCode();
                u.onCheck(status / 100 == 2, status == 503, "status " + status);
              }
              if (!scheduler.isShutdown()) {
                scheduler.schedule(
                    () -> check(u), config.interval().toNanos(), TimeUnit.NANOSECONDS);
              }
            });
  }

  private URI target(URI base) {
    String path = base.getRawPath() == null ? "" : base.getRawPath();
    if (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return URI.create(base.getScheme() + "://" + base.getRawAuthority() + path + config.path());
  }

  private String describe(Throwable error) {
    Throwable e =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (e instanceof HttpTimeoutException) {
      return "no answer within " + config.timeout().toMillis() + " ms";
    }
    if (e instanceof ConnectException) {
      return "connect refused";
    }
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
