package com.foobar.core;

import java.time.Duration;
import java.util.List;

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
    Duration drainTimeout) {}
