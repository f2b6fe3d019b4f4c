package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ListenerConflictsTest {
  private static final FoobarConfig DEFAULTS = ConfigLoader.load(Optional.empty(), Map.of());
  private static final Set<Role> ALL = EnumSet.allOf(Role.class);

  private static FoobarConfig with(
      String lbHttps, String lbHttp, String lbAdmin, String listen, String admin, String monitor) {
    LbConfig lb = DEFAULTS.lb();
    BackendConfig b = DEFAULTS.backend();
    MonitorConfig m = DEFAULTS.monitor();
    return new FoobarConfig(
        DEFAULTS.site(),
        DEFAULTS.node(),
        new LbConfig(
            HostPort.parse(lbHttps),
            HostPort.parse(lbHttp),
            lb.redirectHttp(),
            HostPort.parse(lbAdmin),
            lb.adminAccess(),
            lb.tls(),
            lb.sni(),
            lb.tlsEngine(),
            lb.hsts(),
            lb.allow(),
            lb.deny(),
            lb.trustedProxies(),
            lb.proxyProtocol(),
            lb.rateLimit(),
            lb.maxConnections(),
            lb.maxConnectionsPerIp(),
            lb.limits(),
            lb.requestTimeout(),
            lb.accessLog(),
            lb.backends(),
            lb.balance(),
            lb.health(),
            lb.passive(),
            lb.slowStart(),
            lb.retries(),
            lb.pool(),
            lb.upstreamTls(),
            lb.drainTimeout()),
        new BackendConfig(
            HostPort.parse(listen),
            HostPort.parse(admin),
            b.adminAccess(),
            b.allow(),
            b.deny(),
            b.staticFiles(),
            b.limits(),
            b.accessLog(),
            b.drainTimeout(),
            b.apps(),
            b.plugins(),
            b.upstream(),
            b.tls()),
        DEFAULTS.database(),
        new MonitorConfig(HostPort.parse(monitor), m.allow(), m.deny()),
        DEFAULTS.logging());
  }

  @Test
  void defaults_haveNoConflicts() {
    assertThat(ConfigLoader.listenerConflicts(DEFAULTS, ALL)).isEmpty();
  }

  @Test
  void listenerConflict_sameAddress() {
    FoobarConfig config =
        with(
            "0.0.0.0:8443",
            "0.0.0.0:8080",
            "127.0.0.1:9101",
            "127.0.0.1:8081",
            "127.0.0.1:8081",
            "127.0.0.1:9090");

    assertThat(ConfigLoader.listenerConflicts(config, ALL))
        .containsExactly("backend.admin: address 127.0.0.1:8081 is also used by backend.listen");
  }

  @Test
  void listenerConflict_onlyAmongRolesOfThisProcess() {
    FoobarConfig config =
        with(
            "0.0.0.0:8443",
            "0.0.0.0:8080",
            "127.0.0.1:9090",
            "127.0.0.1:8081",
            "127.0.0.1:9102",
            "127.0.0.1:9090");

    assertThat(ConfigLoader.listenerConflicts(config, EnumSet.of(Role.LB, Role.BACKEND))).isEmpty();
    assertThat(ConfigLoader.listenerConflicts(config, EnumSet.of(Role.LB, Role.MONITOR)))
        .containsExactly("monitor.listen: address 127.0.0.1:9090 is also used by lb.admin");
  }

  @Test
  void listenerConflict_wildcardIpv4_overlapsAnyIpv4() {
    FoobarConfig config =
        with(
            "0.0.0.0:8443",
            "0.0.0.0:8080",
            "127.0.0.1:9101",
            "10.0.0.5:8443",
            "127.0.0.1:9102",
            "[::1]:8080");

    assertThat(ConfigLoader.listenerConflicts(config, ALL))
        .containsExactly("backend.listen: address 10.0.0.5:8443 overlaps lb.https (0.0.0.0:8443)");
  }

  @Test
  void listenerConflict_wildcardIpv6_overlapsEverything() {
    FoobarConfig config =
        with(
            "[::]:8443",
            "0.0.0.0:8080",
            "127.0.0.1:9101",
            "127.0.0.1:8443",
            "127.0.0.1:9102",
            "127.0.0.1:9090");

    assertThat(ConfigLoader.listenerConflicts(config, ALL))
        .containsExactly("backend.listen: address 127.0.0.1:8443 overlaps lb.https ([::]:8443)");
  }

  @Test
  void portZero_neverConflicts() {
    FoobarConfig config =
        with("0.0.0.0:0", "0.0.0.0:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0");

    assertThat(ConfigLoader.listenerConflicts(config, ALL)).isEmpty();
  }

  @Test
  void differentHosts_samePort_doNotConflict() {
    FoobarConfig config =
        with(
            "10.0.0.1:443",
            "10.0.0.1:80",
            "127.0.0.1:9101",
            "10.0.0.2:443",
            "127.0.0.1:9102",
            "127.0.0.1:9090");

    assertThat(ConfigLoader.listenerConflicts(config, ALL)).isEmpty();
  }

  @Test
  void role_key_isLowercaseName() {
    assertThat(List.of(Role.values()).stream().map(Role::key))
        .containsExactly("lb", "backend", "monitor");
  }
}
