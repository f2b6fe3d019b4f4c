package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

class CidrTest {
  private static InetAddress ip(String literal) throws UnknownHostException {
    return InetAddress.getByName(literal);
  }

  @Test
  void ipv4_prefix_matchesInsideOnly() throws UnknownHostException {
    Cidr net = Cidr.parse("10.1.0.0/16");

    assertThat(net.contains(ip("10.1.255.7"))).isTrue();
    assertThat(net.contains(ip("10.2.0.1"))).isFalse();
  }

  @Test
  void ipv4_oddPrefix_masksPartialByte() throws UnknownHostException {
    Cidr net = Cidr.parse("192.168.1.128/25");

    assertThat(net.contains(ip("192.168.1.200"))).isTrue();
    assertThat(net.contains(ip("192.168.1.127"))).isFalse();
  }

  @Test
  void bareAddress_isSingleHost() throws UnknownHostException {
    assertThat(Cidr.parse("10.0.0.1").contains(ip("10.0.0.1"))).isTrue();
    assertThat(Cidr.parse("10.0.0.1").contains(ip("10.0.0.2"))).isFalse();
    assertThat(Cidr.parse("::1").contains(ip("::1"))).isTrue();
  }

  @Test
  void hostBits_ignored_forEquality() {
    assertThat(Cidr.parse("10.1.2.3/8")).isEqualTo(Cidr.parse("10.0.0.0/8"));
    assertThat(Cidr.parse("10.1.2.3/8")).hasSameHashCodeAs(Cidr.parse("10.0.0.0/8"));
    assertThat(Cidr.parse("10.0.0.0/8")).isNotEqualTo(Cidr.parse("10.0.0.0/9"));
  }

  @Test
  void ipv6_prefix_matches() throws UnknownHostException {
    Cidr net = Cidr.parse("2001:db8::/32");

    assertThat(net.contains(ip("2001:db8:1::5"))).isTrue();
    assertThat(net.contains(ip("2001:db9::5"))).isFalse();
  }

  @Test
  void families_doNotMix() throws UnknownHostException {
    assertThat(Cidr.parse("0.0.0.0/0").contains(ip("::1"))).isFalse();
    assertThat(Cidr.parse("::/0").contains(ip("127.0.0.1"))).isFalse();
  }

  @Test
  void slashZero_matchesWholeFamily() throws UnknownHostException {
    assertThat(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.9"))).isTrue();
    assertThat(Cidr.parse("::/0").contains(ip("2001:db8::1"))).isTrue();
  }

  @Test
  void v4MappedPeer_matchedAsIpv4() throws UnknownHostException {
    InetAddress mapped =
        Inet6Address.getByAddress(
            "peer",
            new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 7},
            -1);

    assertThat(mapped.getAddress()).hasSize(16);
    assertThat(Cidr.parse("10.0.0.0/8").contains(mapped)).isTrue();
    assertThat(Cidr.parse("192.168.0.0/16").contains(mapped)).isFalse();
  }

  @Test
  void v4MappedNetwork_keptAsIpv6() throws UnknownHostException {
    Cidr net = Cidr.parse("::ffff:10.0.0.0/104");

    assertThat(net.contains(ip("10.1.2.3"))).isFalse();
    assertThat(net.toString()).isEqualTo("::ffff:10.0.0.0/104");
  }

  @Test
  void prefixTooLong_rejected() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("prefix length must be 0-32");
    assertThatThrownBy(() -> Cidr.parse("::/129")).hasMessage("prefix length must be 0-128");
  }

  @Test
  void badInputs_rejected() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessage("prefix length must be a number");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/-1")).hasMessage("prefix length must be 0-32");
    assertThatThrownBy(() -> Cidr.parse("256.0.0.1")).hasMessage("IPv4 octet out of range: 256");
    assertThatThrownBy(() -> Cidr.parse("localhost"))
        .hasMessage("expected an IPv4 or IPv6 address with optional /prefix");
    assertThatThrownBy(() -> Cidr.parse("10.0.0/8"))
        .hasMessage("expected an IPv4 or IPv6 address with optional /prefix");
    assertThatThrownBy(() -> Cidr.parse("")).isInstanceOf(IllegalArgumentException.class);
  }
}
