package com.foobar.replication;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What {@link ReplicatedDatabase} needs from a {@code jdbc:mysql://host:port/db?k=v} URL: the
 * address for logs and metrics (never user or password) and the Connector/J properties it adds.
 */
final class JdbcUrls {
  private static final String PREFIX = "jdbc:mysql://";

  /**
   * Connector/J properties set unless the URL names them (compared ignoring case):
   *
   * <ul>
   *   <li>{@code connectTimeout=2000}, {@code socketTimeout=30000} (ms): a dead or unreachable
   *       server fails a connection attempt within 2 s and a hung statement within 30 s instead of
   *       holding a request thread forever. Set a larger {@code socketTimeout} in the URL for long
   *       reports.
   *   <li>{@code useServerPrepStmts}, {@code cachePrepStmts}, {@code prepStmtCacheSize=250}, {@code
   *       prepStmtCacheSqlLimit=2048}, {@code useLocalSessionState}: HikariCP's advice for MySQL;
   *       server-side prepared statements parsed once per connection, and no round trip to set a
   *       session state that is already set.
   * </ul>
   */
  static final Map<String, String> DEFAULTS = defaults();

  private JdbcUrls() {}

  private static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("connectTimeout", "2000");
    d.put("socketTimeout", "30000");
    d.put("useServerPrepStmts", "true");
    d.put("cachePrepStmts", "true");
    d.put("prepStmtCacheSize", "250");
    d.put("prepStmtCacheSqlLimit", "2048");
    d.put("useLocalSessionState", "true");
    return Map.copyOf(d);
  }

  /**
   * Checks that {@code url} is a {@code jdbc:mysql://} URL.
   *
   * @param key the configuration key it came from, for the message
   * @throws IllegalArgumentException naming the key and the (redacted) value
   */
  static String check(String key, String url) {
    if (!url.startsWith(PREFIX) || url.length() == PREFIX.length()) {
      throw new IllegalArgumentException(
          key + " must be a jdbc:mysql://host:port/database URL, got " + redacted(url));
    }
    return url;
  }

  /** {@code host:port} of {@code url} (port 3306 when the URL has none), without user info. */
  static String address(String url) {
    String hosts = authority(url);
    if (hosts.endsWith("]") || !hosts.contains(":")) {
      return hosts + ":3306";
    }
    return hosts;
  }

  /** {@code url} without user info and query, e.g. {@code jdbc:mysql://10.0.0.21:3306/foobar}. */
  static String redacted(String url) {
    if (!url.startsWith(PREFIX)) {
      int colon = url.indexOf("://");
      return colon < 0 ? "(not a URL)" : url.substring(0, colon) + "://...";
    }
    String rest = url.substring(PREFIX.length());
    int query = rest.indexOf('?');
    String path = query < 0 ? rest : rest.substring(0, query);
    int slash = path.indexOf('/');
    return PREFIX + address(url) + (slash < 0 ? "" : path.substring(slash));
  }

  /** The {@link #DEFAULTS} that {@code url} does not set itself. */
  static Map<String, String> missingDefaults(String url) {
    int query = url.indexOf('?');
    Set<String> given =
        query < 0
            ? Set.of()
            : java.util.Arrays.stream(url.substring(query + 1).split("&"))
                .map(p -> p.split("=", 2)[0].toLowerCase(Locale.ROOT))
                .collect(Collectors.toSet());
    Map<String, String> out = new LinkedHashMap<>();
    DEFAULTS.forEach(
        (k, v) -> {
          if (!given.contains(k.toLowerCase(Locale.ROOT))) {
            out.put(k, v);
          }
        });
    return out;
  }

  private static String authority(String url) {
    String rest = url.startsWith(PREFIX) ? url.substring(PREFIX.length()) : url;
    int end = rest.length();
    for (char c : new char[] {'/', '?'}) {
      int i = rest.indexOf(c);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    String authority = rest.substring(0, end);
    return authority.substring(authority.lastIndexOf('@') + 1);
  }
}
