package com.foobar.core;

import java.time.Duration;
import java.util.List;

/**
 * The site's MySQL/MariaDB servers. When the section is given, the keys below other than {@code
 * primary}, {@code user} and {@code password} take their defaults from {@code
 * foobar-section-defaults.yml}.
 *
 * @param primary JDBC URL of the primary (all writes, and reads when no replica is usable)
 * @param replicas JDBC URLs of the replicas (reads); may be empty
 * @param user a least-privilege user (never one with SUPER: its writes pass {@code read_only})
 * @param password its password; masked wherever the configuration is printed
 * @param poolSize connections per server (one pool per primary and per replica)
 * @param connectionTimeout how long a write waits for a primary connection before failing with 503
 * @param replicaTimeout how long a read waits for a replica connection before it falls back to the
 *     primary
 * @param replicaRetry how long a replica that failed is skipped before reads try it again
 * @param migrate whether start-up applies the applications' schema migrations on the primary
 */
public record DatabaseConfig(
    String primary,
    List<String> replicas,
    String user,
    Secret password,
    int poolSize,
    Duration connectionTimeout,
    Duration replicaTimeout,
    Duration replicaRetry,
    boolean migrate) {}
