package com.foobar.launcher;

import com.foobar.core.BackendConfig;
import com.foobar.core.FoobarConfig;
import com.foobar.core.HostPort;
import com.foobar.core.InternalCa;
import com.foobar.core.LbConfig;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Role {@code all}: the whole site in one process, wired as it would be across machines. One
 * backend runs per {@code lb.backends} entry on this host (listening on that entry's address, its
 * admin listener on {@code backend.admin}'s port plus the entry's index), and when those entries
 * are {@code https} and neither {@code backend.tls} nor {@code lb.upstream-tls} is configured, the
 * tiers talk mutual TLS with an internal CA kept in {@code DATA/certs} (created at the first
 * start): each backend requires a client certificate from it and the lb presents one.
 */
final class AllMode {
  static final String LB_NODE = "lb";
  static final String BACKEND_NODE = "backend";

  private AllMode() {}

  /** The site of {@code config} as one process runs it. */
  record Site(LbConfig lb, List<BackendConfig> backends) {}

  static Site wire(FoobarConfig config, Path dataDir, Clock clock) {
    LbConfig lb = config.lb();
    BackendConfig template = config.backend();
    List<URI> local = new ArrayList<>();
    for (LbConfig.BackendRef ref : lb.backends()) {
      if (isLocal(ref.url().getHost())) {
        local.add(ref.url());
      }
    }
    boolean https = local.stream().anyMatch(u -> u.getScheme().equals("https"));
    Optional<BackendConfig.BackendTlsConfig> backendTls = template.tls();
    Optional<LbConfig.PeerTlsConfig> upstreamTls = lb.upstreamTls();
    if (https && backendTls.isEmpty() && upstreamTls.isEmpty()) {
      Path certs = internalCa(dataDir.resolve("certs"), local, clock);
      backendTls =
          Optional.of(
              new BackendConfig.BackendTlsConfig(
                  certs.resolve(BACKEND_NODE + ".pem"),
                  certs.resolve(BACKEND_NODE + "-key.pem"),
                  Optional.of(certs.resolve(InternalCa.CA_CERT)),
                  BackendConfig.ClientAuth.REQUIRED));
      upstreamTls =
          Optional.of(
              new LbConfig.PeerTlsConfig(
                  certs.resolve(InternalCa.CA_CERT),
                  certs.resolve(LB_NODE + ".pem"),
                  certs.resolve(LB_NODE + "-key.pem")));
    }
    List<BackendConfig> backends = new ArrayList<>();
    for (int i = 0; i < local.size(); i++) {
      URI url = local.get(i);
      HostPort listen = new HostPort(url.getHost(), url.getPort());
      HostPort admin = new HostPort(template.admin().host(), template.admin().port() + i);
      backends.add(
          template.at(
              listen, admin, url.getScheme().equals("https") ? backendTls : Optional.empty()));
    }
    return new Site(lb.withUpstreamTls(upstreamTls), backends);
  }

  /**
   * The internal CA in {@code dir} with the lb's and the backends' certificates, made if missing.
   * The certificates name the loopback addresses and the host of every local backend URL: the lb
   * checks that a backend's certificate names the host it dialled.
   */
  private static Path internalCa(Path dir, List<URI> backends, Clock clock) {
    if (!Files.exists(dir.resolve(InternalCa.CA_CERT))) {
      InternalCa.init(dir, clock);
    }
    Set<String> sans = new LinkedHashSet<>(List.of("127.0.0.1", "localhost", "::1"));
    for (URI url : backends) {
      String host = url.getHost();
      sans.add(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
    }
    for (String node : List.of(LB_NODE, BACKEND_NODE)) {
      if (!Files.exists(dir.resolve(node + ".pem"))) {
        InternalCa.issue(dir, node, List.copyOf(sans), clock);
      }
    }
    return dir;
  }

  private static boolean isLocal(String host) {
    if (host.equals("localhost")) {
      return true;
    }
    try {
      InetAddress address = InetAddress.getByName(host);
      return address.isLoopbackAddress() || address.isAnyLocalAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
