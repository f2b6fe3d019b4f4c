package com.foobar.lb;

import com.foobar.core.AccessRule;
import com.foobar.core.AdminHandler;
import com.foobar.core.ClientAddress;
import com.foobar.core.ConnectionGuard;
import com.foobar.core.HostPort;
import com.foobar.core.HttpServer;
import com.foobar.core.LbConfig;
import com.foobar.core.Metrics;
import com.foobar.core.RateLimitHandler;
import com.foobar.core.Readiness;
import com.foobar.core.RoleServer;
import com.foobar.core.ServerTls;
import com.github.benmanes.caffeine.cache.Ticker;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.proxy.ProxyHandler;
import io.undertow.util.AttachmentKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Role {@code lb}: the HTTPS listener {@code lb.https} (HTTP/2 and HTTP/1.1 by ALPN, {@code
 * Strict-Transport-Security} unless {@code lb.hsts: off}) and the HTTP listener {@code lb.http}
 * (308 to HTTPS except ACME challenges), both behind {@code lb.allow}/{@code lb.deny}, spread
 * requests over {@code lb.backends} by {@code lb.balance} among the backends that pass their health
 * checks and are not ejected, retrying idempotent requests on another backend within the retry
 * budget. The admin listener {@code lb.admin} serves {@code /health}, {@code /ready}, {@code
 * /metrics} and {@code /stats}.
 *
 * <p>Each public listener caps its open connections at accept time ({@code lb.max-connections}, and
 * {@code lb.max-connections-per-ip} for peers not in {@code lb.trusted-proxies}) and, with {@code
 * lb.proxy-protocol}, reads a PROXY header from every trusted proxy's connection.
 */
public final class LoadBalancer implements RoleServer {
  private static final Logger log = LoggerFactory.getLogger(LoadBalancer.class);
  static final String HTTPS_LISTENER = "lb-https";
  static final String HTTP_LISTENER = "lb-http";
  static final String ADMIN_LISTENER = "lb-admin";

  /**
   * Put {@code true} on an exchange, in a handler ahead of the lb's, when the peer is a trusted
   * proxy: its {@code X-Request-Id} and {@code X-Forwarded-*} headers are then kept.
   */
  public static final AttachmentKey<Boolean> TRUSTED_PEER = FrontHandler.TRUSTED_PEER;

  private final HttpServer server;
  private final Readiness readiness;
  private final HealthChecker health;
  private final BalancingClient client;

  private LoadBalancer(
      HttpServer server, Readiness readiness, HealthChecker health, BalancingClient client) {
    this.server = server;
    this.readiness = readiness;
    this.health = health;
    this.client = client;
  }

  /**
   * Binds the lb's listeners, starts the health checks and serves; ready when this returns.
   *
   * @param config the {@code lb} section
   * @param metrics the process's registry
   * @param https the certificate(s) of the HTTPS listener (built from {@code lb.tls}/{@code
   *     lb.sni}, or self-signed)
   * @param upstream TLS towards {@code https} backends ({@code lb.upstream-tls}); empty means the
   *     JDK's defaults
   */
  public static LoadBalancer start(
      LbConfig config, Metrics metrics, ServerTls https, Optional<SSLContext> upstream) {
    return start(config, metrics, https, upstream, Ticker.systemTicker());
  }

  /**
   * {@code next} behind the abuse controls of a public listener: the client address (believing
   * {@code X-Forwarded-For} only from {@code lb.trusted-proxies}, which also decides whether an
   * incoming {@code X-Request-Id} is kept) and the per-client rate limit ({@code lb.rate-limit}).
   */
  private static HttpHandler guarded(
      LbConfig config, Metrics metrics, Ticker ticker, String listener, HttpHandler next) {
    HttpHandler limited =
        RateLimitHandler.wrap(config.rateLimit(), ticker::read, metrics.registry(), listener, next);
    return ClientAddress.handler(
        config.trustedProxies(),
        exchange -> {
          exchange.putAttachment(TRUSTED_PEER, ClientAddress.peerTrusted(exchange));
          limited.handleRequest(exchange);
        });
  }

  /**
   * Whether HTTP/1.1 requests go through the {@link H1Relay}: not when every request needs what
   * only Undertow's chain does (per-client rate limit, PROXY protocol) or no backend speaks plain
   * HTTP.
   */
  private static boolean relays(LbConfig config, List<Upstream> upstreams) {
    return !config.rateLimit().enabled()
        && !config.proxyProtocol()
        && upstreams.stream().anyMatch(H1Relay::serves);
  }

  private static H1Relay.Settings relaySettings(
      LbConfig config, boolean https, Optional<String> hsts, int maxConnections) {
    return new H1Relay.Settings(
        https,
        hsts,
        config.limits().maxBodySize().bytes(),
        config.requestTimeout().toNanos(),
        config.trustedProxies(),
        maxConnections,
        (config.pool().queue() + ioThreads() - 1) / ioThreads(),
        config.pool().queueTimeout().toNanos());
  }

  private static int ioThreads() {
    return Runtime.getRuntime().availableProcessors();
  }

  static LoadBalancer start(
      LbConfig config,
      Metrics metrics,
      ServerTls tls,
      Optional<SSLContext> upstream,
      Ticker ticker) {
    List<Upstream> upstreams = new ArrayList<>();
    for (LbConfig.BackendRef ref : config.backends()) {
      upstreams.add(new Upstream(ref, config, ticker));
    }
    Balancer balancer = new Balancer(upstreams, config.balance(), ticker, new Random());
    RetryBudget budget =
        new RetryBudget(config.retries().budgetPercent(), config.retries().budgetWindow(), ticker);
    LbMeters meters = new LbMeters(metrics.registry(), upstreams, ticker);
    int ioThreads = ioThreads();
    BalancingClient client =
        new BalancingClient(balancer, budget, meters, config, upstream, ioThreads, ticker);
    HttpHandler proxy =
        ProxyHandler.builder()
            .setProxyClient(client)
            .setMaxRequestTime(Math.toIntExact(config.requestTimeout().toMillis()))
            .setMaxConnectionRetries(client.maxRetries())
            .setReuseXForwarded(true)
            .setRewriteHostHeader(false)
            .setNext(
                exchange -> {
                  // no backend is available at all
                  exchange.setStatusCode(503);
                  exchange.endExchange();
                })
            .build();
    long maxBody = config.limits().maxBodySize().bytes();
    Optional<String> hsts =
        config.hsts().equalsIgnoreCase("off") ? Optional.empty() : Optional.of(config.hsts());
    AccessRule publicRule = AccessRule.of(config.allow(), config.deny());
    HealthChecker checker = new HealthChecker(upstreams, config.health(), upstream);
    AtomicInteger httpsPort = new AtomicInteger(config.https().port());
    Readiness readiness = new Readiness();
    HttpServer.Builder listeners =
        HttpServer.builder(config.limits(), metrics.registry())
            .httpsListener(
                HTTPS_LISTENER,
                config.https(),
                publicRule,
                Optional.empty(),
                "proxy",
                guarded(
                    config,
                    metrics,
                    ticker,
                    HTTPS_LISTENER,
                    new FrontHandler(hsts, maxBody, proxy)),
                tls,
                false,
                true)
            .listener(
                HTTP_LISTENER,
                config.http(),
                publicRule,
                Optional.empty(),
                "redirect",
                guarded(
                    config,
                    metrics,
                    ticker,
                    HTTP_LISTENER,
                    config.redirectHttp()
                        ? new HttpRedirect(
                            httpsPort::get, new FrontHandler(Optional.empty(), maxBody, proxy))
                        : new FrontHandler(Optional.empty(), maxBody, proxy)))
            .listener(
                ADMIN_LISTENER,
                config.admin(),
                AccessRule.of(config.adminAccess()),
                Optional.empty(),
                "other",
                AdminHandler.create(
                    readiness,
                    metrics,
                    new StatsPage(upstreams, meters, ticker, AdminHandler::notFound)));
    for (String listener : List.of(HTTPS_LISTENER, HTTP_LISTENER)) {
      listeners.connectionGuard(
          listener,
          ConnectionGuard.create(
              config.maxConnections(),
              config.maxConnectionsPerIp(),
              config.trustedProxies(),
              metrics.registry(),
              listener));
      if (config.proxyProtocol()) {
        listeners.proxyProtocol(listener, config.trustedProxies());
      }
    }
    if (relays(config, upstreams)) {
      int maxConnections = config.pool().maxConnections();
      listeners.takeover(
          HTTPS_LISTENER,
          (undertow, tap, worker) ->
              new H1Relay(
                  undertow,
                  tap,
                  worker,
                  relaySettings(config, true, hsts, maxConnections),
                  balancer,
                  budget,
                  meters,
                  metrics.registry(),
                  ticker));
      if (!config.redirectHttp()) {
        listeners.takeover(
            HTTP_LISTENER,
            (undertow, tap, worker) ->
                new H1Relay(
                    undertow,
                    tap,
                    worker,
                    relaySettings(config, false, Optional.empty(), maxConnections),
                    balancer,
                    budget,
                    meters,
                    metrics.registry(),
                    ticker));
      }
    }
    HttpServer server = listeners.start();
    try {
      httpsPort.set(server.address(HTTPS_LISTENER).port());
      checker.start();
      readiness.ready();
      LoadBalancer lb = new LoadBalancer(server, readiness, checker, client);
      log.atInfo()
          .addKeyValue("event", "lb.ready")
          .addKeyValue("role", "lb")
          .addKeyValue("https", server.address(HTTPS_LISTENER).url("https"))
          .addKeyValue("http", server.address(HTTP_LISTENER).url("http"))
          .addKeyValue("admin", server.address(ADMIN_LISTENER).url("http"))
          .addKeyValue("backends", upstreams.toString())
          .addKeyValue("balance", config.balance().name())
          .log("lb serving {} over {}", server.address(HTTPS_LISTENER), upstreams);
      return lb;
    } catch (RuntimeException e) {
      checker.close();
      client.close();
      try {
        server.stop();
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        e.addSuppressed(interrupted);
      }
      throw e;
    }
  }

  /** The HTTPS listener's address as bound. */
  public HostPort httpsAddress() {
    return server.address(HTTPS_LISTENER);
  }

  @Override
  public String role() {
    return "lb";
  }

  @Override
  public List<HttpServer.Bound> listeners() {
    return server.listeners();
  }

  @Override
  public Readiness readiness() {
    return readiness;
  }

  @Override
  public boolean drain(Duration timeout) throws InterruptedException {
    readiness.draining();
    return server.drain(List.of(HTTPS_LISTENER, HTTP_LISTENER), timeout);
  }

  @Override
  public void stop() throws InterruptedException {
    try {
      health.close();
      server.stop();
    } finally {
      client.close();
    }
  }
}
