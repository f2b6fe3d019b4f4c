package com.foobar.core;

import java.util.Optional;

/**
 * The whole site's configuration: one {@code foobar.yml}, each process reading the sections of its
 * role(s). Bound and validated by {@link ConfigLoader}; every value here has already passed its
 * checks.
 *
 * @param site the public host name of the site (used for the self-signed certificate, banners)
 * @param node this process's node name in logs and metrics; defaults to the host name
 * @param lb the load balancer role
 * @param backend the backend role
 * @param database the database servers; empty means the embedded database
 * @param monitor the monitor role
 * @param logging log level and format shared by every role
 */
public record FoobarConfig(
    String site,
    Optional<String> node,
    LbConfig lb,
    BackendConfig backend,
    Optional<DatabaseConfig> database,
    MonitorConfig monitor,
    LoggingConfig logging) {}
