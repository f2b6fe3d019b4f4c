package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccessRuleTest {
  private static InetAddress ip(String literal) throws UnknownHostException {
    return InetAddress.getByName(literal);
  }

  @Test
  void allowed_admitted() throws UnknownHostException {
    AccessRule rule = AccessRule.of(List.of(Cidr.parse("10.0.0.0/8")), List.of());

    assertThat(rule.admits(ip("10.9.8.7"))).isTrue();
    assertThat(rule.admits(ip("11.0.0.1"))).isFalse();
  }

  @Test
  void deny_winsOverAllow() throws UnknownHostException {
    AccessRule rule =
        AccessRule.of(List.of(Cidr.parse("0.0.0.0/0")), List.of(Cidr.parse("10.6.6.0/24")));

    assertThat(rule.admits(ip("10.6.6.6"))).isFalse();
    assertThat(rule.admits(ip("10.6.7.6"))).isTrue();
  }

  @Test
  void update_replacesBothListsForTheNextDecision() throws UnknownHostException {
    AccessRule rule = AccessRule.of(List.of(Cidr.parse("10.0.0.0/8")), List.of());

    rule.update(List.of(Cidr.parse("0.0.0.0/0")), List.of(Cidr.parse("10.0.0.0/8")));

    assertThat(rule.admits(ip("10.9.8.7"))).isFalse();
    assertThat(rule.admits(ip("11.0.0.1"))).isTrue();
  }

  @Test
  void emptyAllow_admitsNobody() throws UnknownHostException {
    AccessRule rule = AccessRule.of(new AccessConfig(List.of(), List.of()));

    assertThat(rule.admits(ip("127.0.0.1"))).isFalse();
    assertThat(rule.admits(ip("::1"))).isFalse();
  }

  @Test
  void ipv6Peer_matchedByIpv6Allow() throws UnknownHostException {
    AccessRule rule =
        AccessRule.of(List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")), List.of());

    assertThat(rule.admits(ip("::1"))).isTrue();
    assertThat(rule.admits(ip("::2"))).isFalse();
  }

  @Test
  void v4MappedPeer_deniedByIpv4Deny() throws UnknownHostException {
    InetAddress mapped =
        Inet6Address.getByAddress(
            "peer",
            new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 7},
            -1);
    AccessRule rule =
        AccessRule.of(List.of(Cidr.parse("::/0")), List.of(Cidr.parse("10.0.0.7/32")));

    assertThat(rule.admits(mapped)).isFalse();
  }
}
