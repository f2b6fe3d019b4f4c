package com.foobar.lb;

import com.foobar.core.AccessEntry;
import com.foobar.core.LbConfig;
import com.foobar.core.ProxiedBody;
import com.github.benmanes.caffeine.cache.Ticker;
import io.undertow.UndertowOptions;
import io.undertow.client.ClientConnection;
import io.undertow.client.UndertowClient;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ProxyCallback;
import io.undertow.server.handlers.proxy.ProxyClient;
import io.undertow.server.handlers.proxy.ProxyConnection;
import io.undertow.server.handlers.proxy.ProxyConnectionPool;
import io.undertow.util.AttachmentKey;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.OptionMap;
import org.xnio.Xnio;
import org.xnio.XnioExecutor;

/**
 * The {@link ProxyClient} under Undertow's {@code ProxyHandler}: picks a backend with the {@link
 * Balancer}, hands out a connection from that backend's own pool, and accounts every attempt
 * (in-flight, latency, passive failures, retries within the {@link RetryBudget}).
 *
 * <p>TLS ({@code https} backends, {@code lb.upstream-tls}): the backend's certificate must chain to
 * the context's CA and name the host of the backend URL ({@link #HOST_CHECK}).
 *
 * <p>Pool: {@code pool.max-connections} per backend, split evenly over the IO threads (Undertow
 * pools per thread; {@link PoolSizing}), with {@code pool.queue} requests waiting at most {@code
 * pool.queue-timeout}.
 *
 * <p>Retries: {@code ProxyHandler} asks {@link #findTarget} again when a connection failed, or an
 * idempotent request was reset before its response started; the second and later calls are retries,
 * each on a backend the request has not tried, each taken from the budget.
 *
 * <p>The request timeout: this client's timer for a request is set before {@code ProxyHandler}'s
 * (which it sets after {@link #findTarget}), so it runs first. A body the client has not finished
 * sending by then has its backend connection aborted ({@link ProxiedBody#timedOut}): Undertow's
 * proxy would close it cleanly, writing the last chunk of a cut-off body. A request that never
 * ends: Undertow's HTTP/2 listener resets the client's stream when the backend closes in the middle
 * of a response, and then never completes the exchange, so its completion listener would not free
 * the backend's in-flight slot; an attempt still open {@link #EXPIRY_GRACE_MILLIS} after the
 * timeout (when {@code ProxyHandler}'s own timeout has ended any live request) is a failure of its
 * backend.
 *
 * <p>Reloads: the balancer, budget and retry settings are one volatile {@link Settings} that {@link
 * #use} replaces; a request reads it once per attempt, without a lock. Pools are added and closed
 * per backend ({@link #add}, {@link #remove}) while requests run.
 */
final class BalancingClient implements ProxyClient {
  private static final Logger log = LoggerFactory.getLogger(BalancingClient.class);

  /**
   * Cuts a request whose body the client did not send whole off at its backend connection ({@link
   * ProxiedBody}), with the INFO event {@code lb.body.cut_off}; Undertow's proxy then logs the
   * failure it meets ({@code proxy.request_failed}) as well.
   */
  static final ProxiedBody.Backend CUT_OFF =
      (exchange, fault, forwarded) -> {
        Attempts a = exchange.getAttachment(BalancingClient.ATTEMPTS);
        if (a == null || a.connection == null) {
          return;
        }
        ProxiedBody.abort(a.connection);
        log.atInfo()
            .addKeyValue("event", "lb.body.cut_off")
            .addKeyValue("backend", a.current.name())
            .addKeyValue("reason", fault.reason)
            .log(
                "{} {}: request cut off at {} after {} bytes of its body: {}",
                exchange.getRequestMethod(),
                exchange.getRequestURI(),
                a.current.name(),
                forwarded,
                fault.reason);
      };

  /** How long after {@code lb.request-timeout} an attempt still open is given up. */
  static final long EXPIRY_GRACE_MILLIS = 1000;

  /** The attempts of one request; ends with the exchange. */
  static final AttachmentKey<Attempts> ATTEMPTS = AttachmentKey.create(Attempts.class);

  /** Why the last attempt of a request failed; shapes the error page status. */
  enum Failure {
    NONE,
    CONNECT,
    QUEUE,
    NO_BACKEND
  }

  /**
   * The endpoint identification of TLS to backends (RFC 2818): a DNS SAN for a host name, an IP SAN
   * for an IP literal must match the host of the backend URL.
   */
  static final String HOST_CHECK = "HTTPS";

  private final LbMeters meters;
  private final Ticker ticker;
  private final PoolSizing manager;
  private final UndertowXnioSsl ssl;
  private final Map<Upstream, Route> routes = new ConcurrentHashMap<>();
  private volatile Settings settings;

  /** What a reload replaces at once. */
  private record Settings(
      Balancer balancer,
      RetryBudget budget,
      int maxRetries,
      long queueTimeoutMillis,
      long timeoutMillis) {}

  /** A backend with its pool, the target {@code ProxyHandler} passes back to us. */
  record Route(Upstream upstream, ProxyConnectionPool pool) implements ProxyTarget {}

  /** The state of one client request across its attempts. */
  static final class Attempts implements AccessEntry.Proxied {
    final List<Upstream> tried = new ArrayList<>(2);
    Upstream current;
    long start;
    boolean settled = true;

    /** When the first attempt started; when a backend's response head came (-1: none). */
    long first = -1;

    long headAt = -1;

    /** The request timeout passed: a response that starts now is the proxy's 504. */
    boolean timedOut;

    /** Backends the relay tried before it handed the request to the proxy. */
    int earlier;

    int retries;
    Failure failure = Failure.NONE;
    XnioExecutor.Key expiry;

    /**
     * The backend connection of the current attempt, once it has one. Kept after the exchange ends
     * (a client that goes away mid-body ends it before the proxy's reader hears of it): the pool
     * takes a connection back only when its request and response are done, and {@link ProxiedBody}
     * aborts only a request whose body has not ended.
     */
    ClientConnection connection;

    @Override
    public String backend() {
      return current == null ? null : current.name();
    }

    @Override
    public long backendNanos() {
      return headAt < 0 ? -1 : headAt - first;
    }

    @Override
    public int attempts() {
      return earlier + tried.size();
    }
  }

  BalancingClient(
      Balancer balancer,
      RetryBudget budget,
      LbMeters meters,
      LbConfig config,
      Optional<SSLContext> upstreamTls,
      int ioThreads,
      Ticker ticker) {
    this.meters = meters;
    this.ticker = ticker;
    this.manager = new PoolSizing(config.pool(), ioThreads);
    this.ssl =
        upstreamTls
            .map(c -> new UndertowXnioSsl(Xnio.getInstance(), OptionMap.EMPTY, c))
            .orElse(null);
    balancer.upstreams().forEach(this::add);
    use(balancer, budget, config);
  }

  /**
   * Picks from now on with {@code balancer}, retries within {@code budget}, and takes {@code
   * config}'s retry attempts and pool queue settings. Every backend of {@code balancer} must have
   * been {@link #add added}.
   */
  void use(Balancer balancer, RetryBudget budget, LbConfig config) {
    manager.resize(config.pool());
    settings =
        new Settings(
            balancer,
            budget,
            config.retries().attempts(),
            config.pool().queueTimeout().toMillis(),
            config.requestTimeout().toMillis());
  }

  /** TLS towards {@code https} backends ({@code lb.upstream-tls}), if configured. */
  Optional<UndertowXnioSsl> upstreamTls() {
    return Optional.ofNullable(ssl);
  }

  /** The balancer in use. */
  Balancer balancer() {
    return settings.balancer();
  }

  /** The retry budget in use. */
  RetryBudget budget() {
    return settings.budget();
  }

  /** Gives {@code u} its own connection pool. */
  void add(Upstream u) {
    URI url = u.url();
    URI base = URI.create(url.getScheme() + "://" + url.getRawAuthority());
    ProxyConnectionPool pool =
        new ProxyConnectionPool(
            manager,
            base,
            "https".equals(url.getScheme()) ? ssl : null,
            UndertowClient.getInstance(),
            // Undertow's client checks the host name by default, unless the JVM-wide system
            // property io.undertow.client.https.disableEndpointIdentification says otherwise: the
            // lb's own option wins over that property, so a backend's certificate must always name
            // its URL's host
            OptionMap.create(UndertowOptions.ENDPOINT_IDENTIFICATION_ALGORITHM, HOST_CHECK));
    routes.put(u, new Route(u, pool));
  }

  /**
   * Closes the pool of a backend the balancer no longer picks: idle connections close now, busy
   * ones when their request ends.
   */
  void remove(Upstream u) {
    Route r = routes.remove(u);
    if (r != null) {
      r.pool().close();
    }
  }

  /** The largest number of retries {@code ProxyHandler} should ask for. */
  int maxRetries() {
    return settings.maxRetries();
  }

  @Override
  public ProxyTarget findTarget(HttpServerExchange exchange) {
    Settings s = settings;
    Attempts a = exchange.getAttachment(ATTEMPTS);
    if (a == null) {
      a = new Attempts();
      exchange.putAttachment(ATTEMPTS, a);
      s.budget().onRequest();
      Attempts attempts = a;
      a.expiry =
          exchange
              .getIoThread()
              .executeAfter(
                  () -> timedOut(exchange, attempts), s.timeoutMillis(), TimeUnit.MILLISECONDS);
      exchange.addExchangeCompleteListener(
          (ex, next) -> {
            try {
              finish(ex, attempts);
            } finally {
              next.proceed();
            }
          });
      // what the access line says of the backends: the relay's attempt counts too when it handed
      // the stream on after its backend failed; a response that starts while an attempt is open
      // is the backend's (the lb's own answers come after the attempt settled)
      AccessEntry.Proxied relayed = exchange.getAttachment(AccessEntry.PROXIED);
      a.earlier = relayed == null ? 0 : relayed.attempts();
      exchange.putAttachment(AccessEntry.PROXIED, a);
      exchange.addResponseCommitListener(
          ex -> {
            if (!attempts.settled && !attempts.timedOut) {
              attempts.headAt = ticker.read();
            }
          });
    } else if (ProxiedBody.fault(exchange) != null) {
      // the lb cut the request off at the backend for the client's fault: no backend would do
      release(a);
      return null;
    } else {
      if (!a.settled) {
        // the connection was reset before the response started
        settle(a, "reset before the response started");
      }
      if (a.retries >= s.maxRetries()) {
        return null;
      }
      if (!s.budget().tryRetry()) {
        meters.budgetExhausted();
        return null;
      }
      a.retries++;
      meters.retry();
    }
    while (true) {
      Optional<Upstream> picked = s.balancer().pick(a.tried);
      if (picked.isEmpty()) {
        if (a.failure == Failure.NONE) {
          a.failure = Failure.NO_BACKEND;
        }
        return null;
      }
      Upstream u = picked.get();
      a.tried.add(u);
      Route route = routes.get(u);
      if (route == null) {
        // a reload removed it after this request read the settings
        continue;
      }
      a.current = u;
      a.settled = false;
      a.start = ticker.read();
      if (a.first < 0) {
        a.first = a.start;
      }
      u.inFlight().incrementAndGet();
      return route;
    }
  }

  /** Ends the current attempt without holding it for or against the backend. */
  private static void release(Attempts a) {
    if (!a.settled) {
      a.settled = true;
      a.current.inFlight().decrementAndGet();
    }
  }

  /** Ends the current attempt as a failure: frees its in-flight slot and tells the backend. */
  private void settle(Attempts a, String reason) {
    a.settled = true;
    a.failure = Failure.CONNECT;
    a.current.inFlight().decrementAndGet();
    meters.failed(a.current, reason);
  }

  /**
   * The request timeout passed: a body still coming is cut off at the backend, and the attempt is
   * given {@link #EXPIRY_GRACE_MILLIS} more to end.
   */
  private void timedOut(HttpServerExchange exchange, Attempts a) {
    a.timedOut = true;
    if (ProxiedBody.timedOut(exchange)) {
      // the client was still sending: not the backend's fault
      release(a);
      return;
    }
    if (!a.settled) {
      a.expiry =
          exchange
              .getIoThread()
              .executeAfter(() -> expire(exchange, a), EXPIRY_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /** The request outlived its timeout: the attempt still open has failed. */
  private void expire(HttpServerExchange exchange, Attempts a) {
    if (a.settled) {
      return;
    }
    log.atDebug()
        .addKeyValue("event", "lb.proxy.expired")
        .addKeyValue("backend", a.current.name())
        .log(
            "{} {} to {} did not end",
            exchange.getRequestMethod(),
            exchange.getRequestURI(),
            a.current.name());
    settle(a, "the response did not end within the request timeout");
  }

  private void finish(HttpServerExchange exchange, Attempts a) {
    if (a.expiry != null) {
      a.expiry.remove();
    }
    if (ProxiedBody.fault(exchange) != null) {
      release(a);
      return;
    }
    if (a.settled) {
      return;
    }
    a.settled = true;
    Upstream u = a.current;
    u.inFlight().decrementAndGet();
    long nanos = ticker.read() - a.start;
    int status = exchange.getStatusCode();
    meters.answered(u, status, nanos);
  }

  @Override
  public void getConnection(
      ProxyTarget target,
      HttpServerExchange exchange,
      ProxyCallback<ProxyConnection> callback,
      long timeout,
      TimeUnit timeUnit) {
    Route route = (Route) target;
    Attempts a = exchange.getAttachment(ATTEMPTS);
    route
        .pool()
        .connect(
            target,
            exchange,
            new ProxyCallback<>() {
              @Override
              public void completed(HttpServerExchange ex, ProxyConnection connection) {
                a.connection = connection.getConnection();
                callback.completed(ex, connection);
              }

              @Override
              public void failed(HttpServerExchange ex) {
                if (!a.settled) {
                  settle(a, "connect failed");
                }
                callback.failed(ex);
              }

              @Override
              public void queuedRequestFailed(HttpServerExchange ex) {
                if (!a.settled) {
                  a.settled = true;
                  a.failure = Failure.QUEUE;
                  a.current.inFlight().decrementAndGet();
                }
                callback.queuedRequestFailed(ex);
              }

              @Override
              public void couldNotResolveBackend(HttpServerExchange ex) {
                failed(ex);
              }
            },
            settings.queueTimeoutMillis(),
            TimeUnit.MILLISECONDS,
            false);
  }

  @Override
  public List<ProxyTarget> getAllTargets() {
    return List.copyOf(routes.values());
  }

  void close() {
    routes.values().forEach(r -> r.pool().close());
  }
}
