package com.foobar.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

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
    UpstreamConfig upstream) {

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
