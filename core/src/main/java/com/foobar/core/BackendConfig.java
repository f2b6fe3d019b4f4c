package com.foobar.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Role {@code backend}: the web server and application server of the site.
 *
 * @param listen the site listener (the lb talks to it)
 * @param admin the admin listener ({@code /health /ready /metrics})
 * @param adminAccess who may reach the admin listener
 * @param allow CIDRs admitted on the site listener
 * @param deny CIDRs refused on the site listener (deny wins over allow)
 * @param staticFiles static file serving (YAML key {@code static})
 * @param limits request limits and timeouts of the site listener
 * @param accessLog the access log of the site listener
 * @param drainTimeout how long SIGTERM waits for in-flight requests before exiting; greater than
 *     zero
 * @param apps the applications that run, by name (built-in {@code links}, or a plugin's name), in
 *     file order; {@code name: ~} removes one that the defaults run
 * @param plugins directory of plugin jars; a missing directory means no plugins
 * @param upstream path prefixes proxied to an external application server
 * @param tls when present the site listener serves HTTPS (the admin listener stays HTTP)
 */
public record BackendConfig(
    HostPort listen,
    HostPort admin,
    AccessConfig adminAccess,
    List<Cidr> allow,
    List<Cidr> deny,
    @Bind.Key("static") StaticConfig staticFiles,
    HttpLimits limits,
    AccessLogConfig accessLog,
    Duration drainTimeout,
    Map<String, AppConfig> apps,
    Path plugins,
    UpstreamConfig upstream,
    Optional<BackendTlsConfig> tls) {

  /**
   * This configuration for another backend instance: listening on {@code listen} with its admin
   * routes on {@code admin} and its site listener's TLS from {@code tls}; everything else shared.
   */
  public BackendConfig at(HostPort listen, HostPort admin, Optional<BackendTlsConfig> tls) {
    return new BackendConfig(
        listen,
        admin,
        adminAccess,
        allow,
        deny,
        staticFiles,
        limits,
        accessLog,
        drainTimeout,
        apps,
        plugins,
        upstream,
        tls);
  }

  /**
   * HTTPS on the site listener, with certificates from the internal CA ({@code foobar certs}).
   *
   * @param cert this backend's certificate chain (PEM)
   * @param key its private key (PEM)
   * @param ca the CA certificate (PEM) that client certificates must chain to; the only trust
   *     anchor
   * @param clientAuth {@code required}: a peer without a certificate from {@code ca} is refused
   *     during the handshake; {@code none} (default): no client certificate is asked for
   */
  public record BackendTlsConfig(
      @Bind.Check(Bind.PathCheck.READABLE_FILE) Path cert,
      @Bind.Check(Bind.PathCheck.READABLE_FILE) Path key,
      @Bind.Check(Bind.PathCheck.READABLE_FILE) Optional<Path> ca,
      ClientAuth clientAuth) {
    public BackendTlsConfig {
      if (clientAuth == ClientAuth.REQUIRED && ca.isEmpty()) {
        throw new IllegalArgumentException(
            "client-auth: required needs ca (the internal CA's ca.pem)");
      }
    }
  }

  /** Whether the backend's site listener asks for client certificates. */
  public enum ClientAuth {
    /** No client certificate is asked for. */
    NONE,
    /** A client certificate that chains to {@code ca} is required. */
    REQUIRED
  }

  /**
   * Where one application runs.
   *
   * @param prefix path prefix its routes are mounted under; {@code /} mounts them at the root
   * @param config the application's own settings, passed to it unchecked (it validates them)
   */
  public record AppConfig(String prefix, JsonNode config) {
    public AppConfig {
      if (!prefix.startsWith("/")) {
        throw new IllegalArgumentException("prefix must start with '/', got '" + prefix + "'");
      }
    }
  }

  /**
   * The reverse proxy to non-Java application servers, like nginx's {@code proxy_pass}.
   *
   * @param routes prefixes and where they go; the first matching route wins
   * @param connectTimeout how long connecting to the upstream may take before 502
   * @param timeout how long the upstream may take to answer before 504
   */
  public record UpstreamConfig(List<Route> routes, Duration connectTimeout, Duration timeout) {}

  /**
   * One proxied prefix.
   *
   * @param prefix request paths starting with this go upstream (e.g. {@code /py/})
   * @param url the upstream, e.g. {@code http://127.0.0.1:3000}. Without a path the request path is
   *     passed unchanged; with a path (even {@code /}) the matched prefix is replaced by it, as
   *     nginx does
   */
  public record Route(String prefix, URI url) {
    public Route {
      if (!prefix.startsWith("/")) {
        throw new IllegalArgumentException("prefix must start with '/', got '" + prefix + "'");
      }
    }
  }
}
