package com.foobar.core;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Role {@code lb}: TLS termination, firewall, rate limits and health-checked balancing.
 *
 * @param https the HTTPS listener address (HTTP/2 and HTTP/1.1 by ALPN)
 * @param http the plain HTTP listener: 308 to https, except {@code /.well-known/acme-challenge/}
 * @param redirectHttp {@code false} makes the HTTP listener proxy like the HTTPS one instead of
 *     redirecting (TLS terminated in front of the lb, or traffic inside a private network)
 * @param admin the admin listener ({@code /health /ready /metrics /stats})
 * @param adminAccess who may reach the admin listener
 * @param tls the default certificate chain and key; empty means a self-signed certificate for
 *     {@code site}, generated at start
 * @param sni more certificates, each chosen when the client's SNI matches one of its names
 * @param tlsEngine the HTTPS listener's TLS implementation; {@code openssl} takes no {@code sni}
 * @param hsts the {@code Strict-Transport-Security} value of HTTPS responses; {@code off} sends
 *     none
 * @param allow CIDRs allowed on the public listeners
 * @param deny CIDRs refused on the public listeners (deny wins over allow)
 * @param trustedProxies peers whose {@code X-Forwarded-For} (or PROXY protocol header) names the
 *     client; for every other peer the socket address is the client
 * @param proxyProtocol whether connections from trusted proxies start with a PROXY protocol header
 *     (v2, or v1) naming the client; one without it is closed. A PROXY header from any other peer
 *     is not believed: it is read as HTTP (400 on {@code http}) or TLS (a failed handshake)
 * @param rateLimit requests per client IP (token bucket); over it → 429 with {@code Retry-After}
 * @param maxConnections open connections of each public listener, all peers together; a connection
 *     over it is closed as soon as it is accepted
 * @param maxConnectionsPerIp open connections of one socket peer on each public listener; peers in
 *     {@code trustedProxies} are held to {@code maxConnections} only
 * @param limits header limits and timeouts of the public listeners; body size 413
 * @param requestTimeout the whole request, from its first byte to the backend's last: 504 after
 * @param accessLog the access log of the public listeners: a line per request, with the backend
 *     that served it, the time it took to answer and the backends tried
 * @param backends where requests go, with weights
 * @param balance how a backend is picked
 * @param health active health checks of every backend
 * @param passive ejection of a backend that fails requests
 * @param slowStart a recovered backend's weight ramps from zero over this long
 * @param retries retries of idempotent requests on another backend
 * @param pool connections to each backend
 * @param upstreamTls TLS to the backends ({@code https} URLs): the CA that signed them and this
 *     lb's client certificate; empty means the JDK's trust store and no client certificate
 * @param drainTimeout how long SIGTERM waits for in-flight requests
 */
public record LbConfig(
    HostPort https,
    HostPort http,
    boolean redirectHttp,
    HostPort admin,
    AccessConfig adminAccess,
    Optional<TlsConfig> tls,
    List<TlsConfig> sni,
    TlsEngine tlsEngine,
    String hsts,
    List<Cidr> allow,
    List<Cidr> deny,
    List<Cidr> trustedProxies,
    boolean proxyProtocol,
    RateLimitConfig rateLimit,
    int maxConnections,
    int maxConnectionsPerIp,
    HttpLimits limits,
    Duration requestTimeout,
    AccessLogConfig accessLog,
    @Bind.NonEmpty List<BackendRef> backends,
    Balance balance,
    HealthConfig health,
    PassiveConfig passive,
    @Bind.ZeroAllowed Duration slowStart,
    RetryConfig retries,
    PoolConfig pool,
    Optional<PeerTlsConfig> upstreamTls,
    Duration drainTimeout) {

  public LbConfig {
    if (tlsEngine == TlsEngine.OPENSSL && !sni.isEmpty()) {
      throw new IllegalArgumentException(
          "tls-engine openssl serves one certificate and cannot choose by SNI: lb.sni must be"
              + " empty, got "
              + sni.size()
              + " certificates (use tls-engine jdk)");
    }
  }

  /** This configuration with {@code upstreamTls} in place of its own. */
  public LbConfig withUpstreamTls(Optional<PeerTlsConfig> upstreamTls) {
    return new LbConfig(
        https,
        http,
        redirectHttp,
        admin,
        adminAccess,
        tls,
        sni,
        tlsEngine,
        hsts,
        allow,
        deny,
        trustedProxies,
        proxyProtocol,
        rateLimit,
        maxConnections,
        maxConnectionsPerIp,
        limits,
        requestTimeout,
        accessLog,
        backends,
        balance,
        health,
        passive,
        slowStart,
        retries,
        pool,
        upstreamTls,
        drainTimeout);
  }

  /**
   * One backend. In YAML either its URL alone or {@code {url: ..., weight: 3}}.
   *
   * @param url base URL, {@code http} or {@code https}
   * @param weight relative share of requests, 1..256
   */
  public record BackendRef(URI url, int weight) {
    public BackendRef {
      if (weight < 1 || weight > 256) {
        throw new IllegalArgumentException("weight must be 1..256, got " + weight);
      }
    }
  }

  /** How a backend is picked for a request. */
  public enum Balance {
    /** In turn, by weight (smooth weighted round-robin, as nginx does). */
    ROUND_ROBIN,
    /** The fewest requests in flight relative to weight. */
    LEAST_CONN,
    /**
     * Two backends at random (by weight); the one with the lower in-flight count times latency
     * EWMA.
     */
    P2C
  }

  /**
   * Token bucket per client IP.
   *
   * @param enabled whether requests are limited at all
   * @param rate tokens added per second
   * @param burst bucket size: requests allowed at once after a quiet period
   */
  public record RateLimitConfig(boolean enabled, int rate, int burst) {}

  /**
   * Active health checks.
   *
   * @param path requested on each backend ({@code /ready}: a draining backend answers 503)
   * @param interval between checks of one backend
   * @param timeout of one check
   * @param rise consecutive successes that bring a backend up
   * @param fall consecutive failures that take it down
   */
  public record HealthConfig(
      String path, Duration interval, Duration timeout, int rise, int fall) {}

  /**
   * Passive ejection from real traffic.
   *
   * @param failures consecutive connect failures or 5xx answers that eject a backend
   * @param backoff how long the first ejection lasts; each further one doubles it
   * @param maxBackoff the longest ejection
   */
  public record PassiveConfig(int failures, Duration backoff, Duration maxBackoff) {}

  /**
   * Retries of idempotent requests (connect failure, or reset before the response started).
   *
   * @param attempts retries of one request, each on another backend; 0 turns retries off
   * @param budgetPercent retries may add at most this share of requests over {@code budgetWindow}
   * @param budgetWindow the window the budget is counted over
   */
  public record RetryConfig(
      @Bind.ZeroAllowed int attempts, int budgetPercent, Duration budgetWindow) {}

  /**
   * Connections to each backend.
   *
   * @param maxConnections per backend, all IO threads together
   * @param queue requests that may wait for a connection before 503
   * @param queueTimeout how long one may wait
   */
  public record PoolConfig(int maxConnections, int queue, Duration queueTimeout) {}

  /**
   * TLS towards a peer tier, with certificates from the internal CA ({@code foobar certs}).
   *
   * @param ca the CA certificate (PEM) the peer's certificate must chain to
   * @param cert this node's certificate chain (PEM)
   * @param key this node's private key (PEM)
   */
  public record PeerTlsConfig(
      @Bind.Check(Bind.PathCheck.READABLE_FILE) Path ca,
      @Bind.Check(Bind.PathCheck.READABLE_FILE) Path cert,
      @Bind.Check(Bind.PathCheck.READABLE_FILE) Path key) {}
}
