package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ClientAddressTest {
  private static final Cidr[] TRUSTED = {Cidr.parse("127.0.0.2"), Cidr.parse("10.0.0.0/8")};
  private static final HttpHandler ECHO =
      ex ->
          ex.getResponseSender()
              .send(
                  "client="
                      + ClientAddress.of(ex).getHostAddress()
                      + " trusted="
                      + ClientAddress.peerTrusted(ex));

  private Undertow undertow;

  @AfterEach
  void stop() {
    if (undertow != null) {
      undertow.stop();
    }
  }

  private int start() {
    undertow =
        Undertow.builder()
            .addHttpListener(0, "127.0.0.1")
            .setHandler(ClientAddress.handler(List.of(TRUSTED), ECHO))
            .build();
    undertow.start();
    return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
  }

  private static InetAddress resolve(String peer, String... forwardedFor) throws IOException {
    HeaderValues values = null;
    if (forwardedFor.length > 0) {
      io.undertow.util.HeaderMap map = new io.undertow.util.HeaderMap();
      for (String v : forwardedFor) {
        map.add(Headers.X_FORWARDED_FOR, v);
      }
      values = map.get(Headers.X_FORWARDED_FOR);
    }
    return ClientAddress.resolve(InetAddress.getByName(peer), values, TRUSTED);
  }

  @Test
  void untrustedPeer_forwardedForIgnored() throws IOException {
    int port = start();
    try (Loopback c = Loopback.connect("127.0.0.3", port)) {
      assertThat(c.get("/", "X-Forwarded-For: 198.51.100.1"))
          .endsWith("client=127.0.0.3 trusted=false");
    }
  }

  @Test
  void trustedPeer_rightMostUntrustedEntryWins() throws IOException {
    int port = start();
    try (Loopback c = Loopback.connect("127.0.0.2", port)) {
      assertThat(c.get("/", "X-Forwarded-For: 198.51.100.1, 203.0.113.9, 10.0.0.5"))
          .endsWith("client=203.0.113.9 trusted=true");
      assertThat(c.get("/")).endsWith("client=127.0.0.2 trusted=true");
    }
  }

  @Test
  void malformedEntry_stopsTheWalk_atTheLastGoodAddress() throws IOException {
    assertThat(resolve("127.0.0.2", "198.51.100.1, bogus, 10.0.0.5").getHostAddress())
        .isEqualTo("10.0.0.5");
    assertThat(resolve("127.0.0.2", "198.51.100.1, 203.0.113.9:4711").getHostAddress())
        .isEqualTo("127.0.0.2");
    assertThat(resolve("127.0.0.2", "198.51.100.1, 300.1.1.1").getHostAddress())
        .isEqualTo("127.0.0.2");
    assertThat(resolve("127.0.0.2", "").getHostAddress()).isEqualTo("127.0.0.2");
  }

  @Test
  void allEntriesTrusted_leftMostIsTheClient() throws IOException {
    assertThat(resolve("127.0.0.2", "10.0.0.1, 10.0.0.5").getHostAddress()).isEqualTo("10.0.0.1");
  }

  @Test
  void severalHeaderLines_readAsOneList_inOrder() throws IOException {
    assertThat(resolve("127.0.0.2", "198.51.100.1", "203.0.113.9, 10.0.0.5").getHostAddress())
        .isEqualTo("203.0.113.9");
    assertThat(resolve("127.0.0.2", "198.51.100.1", "10.0.0.5").getHostAddress())
        .isEqualTo("198.51.100.1");
  }

  @Test
  void ipv6Entries_areParsed_andHostNamesNeverLookedUp() throws IOException {
    assertThat(resolve("127.0.0.2", "2001:db8::1, 10.0.0.5").getHostAddress())
        .isEqualTo("2001:db8:0:0:0:0:0:1");
    assertThat(ClientAddress.literal("localhost")).isEmpty();
    assertThat(ClientAddress.literal("[::1]")).isEmpty();
    assertThat(ClientAddress.literal("::zz")).isEmpty();
  }
}
