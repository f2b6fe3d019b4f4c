package com.foobar.core;

import java.util.List;

/**
 * The site's MySQL/MariaDB servers.
 *
 * @param primary JDBC URL of the primary (all writes)
 * @param replicas JDBC URLs of the replicas (reads)
 * @param user a least-privilege user
 * @param password its password; masked wherever the configuration is printed
 */
public record DatabaseConfig(String primary, List<String> replicas, String user, Secret password) {}
