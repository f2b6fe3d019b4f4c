package com.foobar.lb;

import com.foobar.core.AccessRule;
import com.foobar.core.AdminHandler;
import com.foobar.core.ClientAddress;
import com.foobar.core.ConnectionGuard;
import com.foobar.core.HostPort;
import com.foobar.core.HttpServer;
import com.foobar.core.HttpServerBuilder;
import com.foobar.core.LbConfig;
import com.foobar.core.Metrics;
import com.foobar.core.RateLimitHandler;
import com.foobar.core.Readiness;
import com.foobar.core.RoleServer;
import com.foobar.core.ServerTls;
import com.github.benmanes.caffeine.cache.Ticker;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.proxy.ProxyHandler;
import io.undertow.util.AttachmentKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.XnioWorker;

/**
 * Role {@code lb}: the HTTPS listener {@code lb.https} (HTTP/2 and HTTP/1.1 by ALPN, {@code
 * Strict-Transport-Security} unless {@code lb.hsts: off}) and the HTTP listener {@code lb.http}
 * (308 to HTTPS except ACME challenges), both behind {@code lb.allow}/{@code lb.deny}, spread
 * requests over {@code lb.backends} by {@code lb.balance} among the backends that pass their health
 * checks and are not ejected, retrying idempotent requests on another backend within the retry
 * budget. The admin listener {@code lb.admin} serves {@code /health}, {@code /ready}, {@code
 * /metrics} and {@code /stats}.
 *
 * <p>{@link #reconfigure} applies a new {@code lb} section in place, listeners and connections
 * staying open; see there for what a reload changes and what needs a restart.
 *
 * <p>Each public listener caps its open connections at accept time ({@code lb.max-connections}, and
 * {@code lb.max-connections-per-ip} for peers not in {@code lb.trusted-proxies}) and, with {@code
 * lb.proxy-protocol}, reads a PROXY header from every trusted proxy's connection.
 *
 * <p>HTTP/1.1 requests go through the {@link H1Relay} unless {@code lb.proxy-protocol} is on; it
 * applies {@code lb.rate-limit} with the chain's buckets and hands to the chain above what it does
 * not serve itself. HTTP/2 streams without a body pass the chain and then go over the relay's
 * backend connections too; Undertow's {@code ProxyHandler} serves the rest.
 */
public final class LoadBalancer implements RoleServer {
  private static final Logger log = LoggerFactory.getLogger(LoadBalancer.class);
  static final String HTTPS_LISTENER = "lb-https";
  static final String HTTP_LISTENER = "lb-http";
  static final String ADMIN_LISTENER = "lb-admin";

  /** Keys a reload cannot change: the listeners, their TLS and access logs, the pools' TLS. */
  private static final Set<String> FIXED =
      Set.of(
          "lb.https",
          "lb.http",
          "lb.admin",
          "lb.tls",
          "lb.sni",
          "lb.tls-engine",
          "lb.proxy-protocol",
          "lb.max-connections",
          "lb.max-connections-per-ip",
          "lb.upstream-tls",
          "lb.access-log",
          "lb.drain-timeout");

  /**
   * Put {@code true} on an exchange, in a handler ahead of the lb's, when the peer is a trusted
   * proxy: its {@code X-Request-Id} and {@code X-Forwarded-*} headers are then kept.
   */
  public static final AttachmentKey<Boolean> TRUSTED_PEER = FrontHandler.TRUSTED_PEER;

  /**
   * What a {@link #reconfigure} did, by YAML key (e.g. {@code lb.backends}, {@code
   * lb.limits.idle-timeout}).
   *
   * @param applied changed keys now in effect
   * @param restartNeeded changed keys that keep their old value (or take full effect) only after a
   *     restart
   */
  public record Reload(List<String> applied, List<String> restartNeeded) {}

  private final HttpServer server;
  private final Readiness readiness;
  private final Parts parts;
  private final LbConfig started;
  // guarded by this
  private LbConfig config;
  private RetryBudget budget;

  /** What {@link #start} makes before the listeners and a reload changes after. */
  private record Parts(
      Metrics metrics,
      Ticker ticker,
      BalancingClient client,
      LbMeters meters,
      HealthChecker health,
      Roster roster,
      AccessRule publicRule,
      AccessRule adminRule,
      PublicChain https,
      PublicChain http,
      AtomicInteger httpsPort,
      List<H1Relay> relays) {}

  private LoadBalancer(
      HttpServer server, Readiness readiness, Parts parts, LbConfig config, RetryBudget budget) {
    this.server = server;
    this.readiness = readiness;
    this.parts = parts;
    this.started = config;
    this.config = config;
    this.budget = budget;
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
   * The handler of a public listener, in two parts a reload replaces separately: the guard (the
   * client address, believing {@code X-Forwarded-For} only from {@code lb.trusted-proxies}, which
   * also decides whether an incoming {@code X-Request-Id} is kept; and the per-client rate limit
   * {@code lb.rate-limit}, whose buckets survive reloads that leave both alone), then the tail (the
   * {@link FrontHandler} and the proxy, or the redirect). A request reads each once: no lock.
   */
  private static final class PublicChain implements HttpHandler {
    private volatile HttpHandler guard;
    private volatile HttpHandler tail;

    /** The rate limiter in {@link #guard}, which the listener's relay shares. */
    private volatile Optional<RateLimitHandler> limiter = Optional.empty();

    final HttpHandler toTail = exchange -> tail.handleRequest(exchange);

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
      guard.handleRequest(exchange);
    }
  }

  private static HttpHandler guard(LbConfig config, Parts p, String listener, PublicChain chain) {
    chain.limiter =
        config.rateLimit().enabled()
            ? Optional.of(
                RateLimitHandler.limiting(
                    config.rateLimit(),
                    p.ticker()::read,
                    p.metrics().registry(),
                    listener,
                    chain.toTail))
            : Optional.empty();
    HttpHandler limited = chain.limiter.isPresent() ? chain.limiter.get() : chain.toTail;
    return ClientAddress.handler(
        config.trustedProxies(),
        exchange -> {
          exchange.putAttachment(TRUSTED_PEER, ClientAddress.peerTrusted(exchange));
          limited.handleRequest(exchange);
        });
  }

  /** Points both public listeners at {@code config}; {@code before} empty at start. */
  private static void wire(LbConfig config, Optional<LbConfig> before, Parts p) {
    if (before.isEmpty()
        || !before.get().trustedProxies().equals(config.trustedProxies())
        || !before.get().rateLimit().equals(config.rateLimit())) {
      p.https().guard = guard(config, p, HTTPS_LISTENER, p.https());
      p.http().guard = guard(config, p, HTTP_LISTENER, p.http());
    }
    HttpHandler proxy =
        ProxyHandler.builder()
            .setProxyClient(p.client())
            .setMaxRequestTime(Math.toIntExact(config.requestTimeout().toMillis()))
            .setMaxConnectionRetries(config.retries().attempts())
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
    Optional<String> hsts = FrontHandler.hsts(config.hsts());
    p.https().tail = new FrontHandler(hsts, maxBody, streams(p, proxy));
    for (H1Relay relay : p.relays()) {
      relay.use(relayRoute(config, p, relay.https()));
    }
    FrontHandler plain = new FrontHandler(Optional.empty(), maxBody, proxy);
    p.http().tail = config.redirectHttp() ? new HttpRedirect(p.httpsPort()::get, plain) : plain;
  }

  /**
   * The HTTPS listener's end of the chain: HTTP/2 streams go over its relay's backend connections
   * ({@link H1Relay#stream}), the rest (and everything when there is no relay: {@code
   * lb.proxy-protocol}) to {@code proxy}.
   */
  private static HttpHandler streams(Parts p, HttpHandler proxy) {
    return exchange -> {
      for (H1Relay relay : p.relays()) {
        if (relay.https()) {
          relay.stream(exchange, proxy);
          return;
        }
      }
      proxy.handleRequest(exchange);
    };
  }

  /**
   * What the relay of the HTTPS listener ({@code https}) or the HTTP one does from now on: serve
   * unless the plain listener redirects, with the balancer and budget of the proxy client and the
   * listener's rate limiter.
   */
  private static H1Relay.Route relayRoute(LbConfig config, Parts p, boolean https) {
    int threads = Runtime.getRuntime().availableProcessors();
    BalancingClient client = p.client();
    return new H1Relay.Route(
        client.balancer(),
        client.budget(),
        client.upstreamTls(),
        new H1Relay.Settings(
            https || !config.redirectHttp(),
            (https ? p.https() : p.http()).limiter,
            https ? FrontHandler.hsts(config.hsts()) : Optional.empty(),
            config.limits().maxBodySize().bytes(),
            config.requestTimeout().toNanos(),
            config.trustedProxies(),
            config.pool().maxConnections(),
            (config.pool().queue() + threads - 1) / threads,
            config.pool().queueTimeout().toNanos()));
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
    int ioThreads = Runtime.getRuntime().availableProcessors();
    BalancingClient client =
        new BalancingClient(balancer, budget, meters, config, upstream, ioThreads, ticker);
    HealthChecker checker = new HealthChecker(upstreams, config.health(), upstream);
    Parts p =
        new Parts(
            metrics,
            ticker,
            client,
            meters,
            checker,
            new Roster(upstreams, client, meters, checker, ticker),
            AccessRule.of(config.allow(), config.deny()),
            AccessRule.of(config.adminAccess()),
            new PublicChain(),
            new PublicChain(),
            new AtomicInteger(config.https().port()),
            new CopyOnWriteArrayList<>());
    wire(config, Optional.empty(), p);
    Readiness readiness = new Readiness();
    HttpServerBuilder listeners =
        HttpServer.builder(config.limits(), metrics.registry())
            // FrontHandler: 413 by Content-Length, or ProxiedBody as the body is forwarded
            .bodiesCountedByHandlers()
            .httpsListener(
                HTTPS_LISTENER,
                config.https(),
                p.publicRule(),
                Optional.of(config.accessLog()),
                "proxy",
                p.https(),
                tls,
                false,
                true)
            .listener(
                HTTP_LISTENER,
                config.http(),
                p.publicRule(),
                Optional.of(config.accessLog()),
                "redirect",
                p.http())
            .listener(
                ADMIN_LISTENER,
                config.admin(),
                p.adminRule(),
                Optional.empty(),
                "other",
                AdminHandler.create(
                    readiness,
                    metrics,
                    new StatsPage(p.roster()::current, meters, ticker, AdminHandler::notFound)));
    // one pool of backend connections for the relays of both listeners
    Map<XnioWorker, RelayPool> pools = new ConcurrentHashMap<>();
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
      } else {
        boolean https = listener.equals(HTTPS_LISTENER);
        listeners.takeover(
            listener,
            (undertow, tap, worker) -> {
              RelayPool pool = pools.computeIfAbsent(worker, w -> new RelayPool(w, meters, ticker));
              H1Relay relay = new H1Relay(undertow, tap, pool, https, metrics.registry());
              relay.use(relayRoute(config, p, https));
              p.relays().add(relay);
              return relay;
            });
      }
    }
    HttpServer server = listeners.start();
    try {
      p.httpsPort().set(server.address(HTTPS_LISTENER).port());
      checker.start();
      readiness.ready();
      LoadBalancer lb = new LoadBalancer(server, readiness, p, config, budget);
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
      p.roster().close();
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

  /**
   * Applies {@code next} in place: listeners and open connections stay, requests in flight finish
   * as they began, and each new request sees the new settings. Live: {@code backends} (a new one
   * gets a pool, meters and health checks and takes traffic at once; a removed one gets no new
   * requests, and its pool closes when its last request ended, at the latest {@code
   * request-timeout} later; one still listed keeps its health, ejection, slow start and latency
   * state), weights, {@code balance}, {@code allow}/{@code deny} and {@code admin-access} (for
   * connections opened from now on), {@code trusted-proxies}, {@code rate-limit} (buckets start
   * full after a change), {@code redirect-http}, {@code hsts}, {@code limits} but the timeouts,
   * {@code request-timeout}, {@code health}, {@code passive}, {@code slow-start}, {@code retries}
   * and {@code pool} (its {@code max-connections} for new backends only).
   *
   * <p>Listener addresses, TLS ({@code tls}, {@code sni}, {@code upstream-tls}), {@code
   * proxy-protocol}, the connection caps, {@code access-log}, {@code drain-timeout} and the
   * listener timeouts keep their start values: they are logged as event {@code
   * config.restart_needed} with their keys, and returned in {@link Reload#restartNeeded()}. Events
   * {@code backend.added} and {@code backend.removed} name each backend.
   *
   * @param next a validated {@code lb} section, as {@link #start} takes
   */
  public synchronized Reload reconfigure(LbConfig next) {
    LbConfig before = config;
    List<String> restart = new ArrayList<>();
    for (String key : ConfigChanges.between("lb", started, next)) {
      // a record-valued key changes as its parts, e.g. lb.https.port
      int dot = key.indexOf('.', 3);
      String top = dot < 0 ? key : key.substring(0, dot);
      if (FIXED.contains(top) || key.equals("lb.pool.max-connections")) {
        restart.add(key);
      }
    }
    server.updateLimits(next.limits()).forEach(k -> restart.add("lb.limits." + k));
    List<String> applied = new ArrayList<>();
    for (String key : ConfigChanges.between("lb", before, next)) {
      if (!restart.contains(key)) {
        applied.add(key);
      }
    }
    Parts p = parts;
    List<Upstream> upstreams = p.roster().apply(next);
    if (before.retries().budgetPercent() != next.retries().budgetPercent()
        || !before.retries().budgetWindow().equals(next.retries().budgetWindow())) {
      budget =
          new RetryBudget(
              next.retries().budgetPercent(), next.retries().budgetWindow(), p.ticker());
    }
    p.client().use(new Balancer(upstreams, next.balance(), p.ticker(), new Random()), budget, next);
    p.health().use(next.health());
    p.publicRule().update(next.allow(), next.deny());
    p.adminRule().update(next.adminAccess().allow(), next.adminAccess().deny());
    wire(next, Optional.of(before), p);
    if (!restart.isEmpty()) {
      log.atWarn()
          .addKeyValue("event", "config.restart_needed")
          .addKeyValue("keys", String.join(",", restart))
          .log("these lb settings keep their start values until a restart: {}", restart);
    }
    config = next;
    return new Reload(List.copyOf(applied), List.copyOf(restart));
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
      parts.roster().close();
      parts.health().close();
      server.stop();
    } finally {
      parts.client().close();
    }
  }
}
