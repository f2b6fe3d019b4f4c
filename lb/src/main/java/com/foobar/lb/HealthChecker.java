package com.foobar.lb;

import com.foobar.core.LbConfig;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
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
 *
 * <p>A reload {@link #add adds} and {@link #remove removes} backends and {@link #use changes} the
 * settings; a check already under way finishes with the settings it started with.
 */
final class HealthChecker implements AutoCloseable {
  private final List<Upstream> initial;
  private final Optional<SSLContext> upstreamTls;
  private final ScheduledExecutorService scheduler;
  // each backend's current run of checks; a check whose token is no longer here stops
  private final Map<Upstream, Object> checked = new ConcurrentHashMap<>();
  private volatile LbConfig.HealthConfig config;
  private volatile HttpClient client;

  HealthChecker(
      List<Upstream> upstreams, LbConfig.HealthConfig config, Optional<SSLContext> upstreamTls) {
    this.initial = List.copyOf(upstreams);
    this.upstreamTls = upstreamTls;
    this.config = config;
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "lb-health");
              t.setDaemon(true);
              return t;
            });
    this.client = client(config);
  }

  private HttpClient client(LbConfig.HealthConfig config) {
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(config.timeout())
            .executor(scheduler);
    upstreamTls.ifPresent(b::sslContext);
    return b.build();
  }

  /** Starts checking every backend, the first check at once. */
  void start() {
    initial.forEach(this::add);
  }

  /** Starts checking {@code u}, the first check at once. */
  void add(Upstream u) {
    Object token = new Object();
    checked.put(u, token);
    scheduler.execute(() -> check(u, token));
  }

  /** Stops checking {@code u}. */
  void remove(Upstream u) {
    checked.remove(u);
  }

  /** Checks with {@code next}'s path, interval and timeout from each backend's next check on. */
  void use(LbConfig.HealthConfig next) {
    if (!next.timeout().equals(config.timeout())) {
      client = client(next);
    }
    config = next;
  }

  private void check(Upstream u, Object token) {
    if (scheduler.isShutdown() || checked.get(u) != token) {
      return;
    }
    LbConfig.HealthConfig config = this.config;
    HttpRequest request =
        HttpRequest.newBuilder(target(u.url(), config))
            .timeout(config.timeout())
            .header("User-Agent", "foobar-lb-health")
            .GET()
            .build();
    this.client
        .sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .whenComplete(
            (response, error) -> {
              if (error != null) {
                u.onCheck(false, false, describe(error, config));
              } else {
                int status = response.statusCode();
                u.onCheck(status / 100 == 2, status == 503, "status " + status);
              }
              if (!scheduler.isShutdown()) {
                scheduler.schedule(
                    () -> check(u, token), this.config.interval().toNanos(), TimeUnit.NANOSECONDS);
              }
            });
  }

  private static URI target(URI base, LbConfig.HealthConfig config) {
    String path = base.getRawPath() == null ? "" : base.getRawPath();
    if (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return URI.create(base.getScheme() + "://" + base.getRawAuthority() + path + config.path());
  }

  private static String describe(Throwable error, LbConfig.HealthConfig config) {
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
