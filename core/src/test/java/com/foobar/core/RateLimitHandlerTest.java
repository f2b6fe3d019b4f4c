package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.LbConfig.RateLimitConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RateLimitHandlerTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private static final HttpHandler ECHO_CLIENT =
      ex -> ex.getResponseSender().send("client=" + ClientAddress.of(ex).getHostAddress());

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final AtomicLong ticker = new AtomicLong(123_456_789L);
  private Undertow undertow;

  @AfterEach
  void stop() {
    if (undertow != null) {
      undertow.stop();
    }
  }

  private int start(List<Cidr> trusted, RateLimitConfig config) {
    undertow =
        Undertow.builder()
            .addHttpListener(0, "127.0.0.1")
            .setHandler(
                ClientAddress.handler(
                    trusted,
                    RateLimitHandler.wrap(config, ticker::get, registry, "lb", ECHO_CLIENT)))
            .build();
    undertow.start();
    return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
  }

  private double rejected() {
    return registry.get("foobar.ratelimit.rejected").tag("listener", "lb").counter().count();
  }

  @Test
  void exhaustedBurst_gets429WithRetryAfter_whileOtherIpStillServed_andRefillsWithTicker()
      throws IOException {
    int port = start(List.of(), new RateLimitConfig(true, 1, 2));
    try (Loopback two = Loopback.connect("127.0.0.2", port);
        Loopback three = Loopback.connect("127.0.0.3", port)) {
      assertThat(two.get("/")).startsWith("HTTP/1.1 200");
      assertThat(two.get("/")).startsWith("HTTP/1.1 200");
      String over = two.get("/");
      assertThat(over)
          .startsWith("HTTP/1.1 429")
          .containsIgnoringCase("Retry-After: 1\r\n")
          .contains("\"retry-after\":1");
      assertThat(three.get("/")).startsWith("HTTP/1.1 200").endsWith("client=127.0.0.3");

      // half a token: still refused, and Retry-After rounds up to a whole second
      ticker.addAndGet(SECOND / 2);
      assertThat(two.get("/")).startsWith("HTTP/1.1 429").containsIgnoringCase("Retry-After: 1");
      ticker.addAndGet(SECOND / 2);
      assertThat(two.get("/")).startsWith("HTTP/1.1 200");
      assertThat(two.get("/")).startsWith("HTTP/1.1 429");
      assertThat(rejected()).isEqualTo(3.0);
    }
  }

  @Test
  void retryAfter_isWholeSecondsUntilNextToken() throws IOException {
    // one token every 4 s: after the burst, the next one is 4 s away
    RateLimitHandler limiter =
        RateLimitHandler.create(
            new RateLimitConfig(true, 1, 1), 10, ticker::get, registry, ECHO_CLIENT);
    InetAddress a = InetAddress.getByName("192.0.2.1");
    assertThat(limiter.take(a)).isZero();
    assertThat(limiter.take(a)).isEqualTo(SECOND);
    ticker.addAndGet(SECOND / 4);
    assertThat(limiter.take(a)).isEqualTo(3 * SECOND / 4);
  }

  @Test
  void refund_givesTheTokenBack_butNeverBeyondTheBurst() throws IOException {
    RateLimitHandler limiter =
        RateLimitHandler.create(
            new RateLimitConfig(true, 1, 2), 10, ticker::get, registry, ECHO_CLIENT);
    InetAddress a = InetAddress.getByName("192.0.2.1");
    assertThat(limiter.take(a)).isZero();
    assertThat(limiter.take(a)).isZero();
    limiter.refund(a);
    assertThat(limiter.take(a)).isZero();
    assertThat(limiter.take(a)).isPositive();
    // a full bucket stays at the burst
    InetAddress b = InetAddress.getByName("192.0.2.2");
    assertThat(limiter.take(b)).isZero();
    limiter.refund(b);
    limiter.refund(b);
    limiter.refund(b);
    assertThat(limiter.take(b)).isZero();
    assertThat(limiter.take(b)).isZero();
    assertThat(limiter.take(b)).isPositive();
  }

  @Test
  void bucketsAreKeptPerResolvedClient_notPerTrustedProxy() throws IOException {
    int port = start(List.of(Cidr.parse("127.0.0.2")), new RateLimitConfig(true, 1, 1));
    try (Loopback proxy = Loopback.connect("127.0.0.2", port)) {
      assertThat(proxy.get("/", "X-Forwarded-For: 198.51.100.1"))
          .startsWith("HTTP/1.1 200")
          .endsWith("client=198.51.100.1");
      assertThat(proxy.get("/", "X-Forwarded-For: 198.51.100.1")).startsWith("HTTP/1.1 429");
      assertThat(proxy.get("/", "X-Forwarded-For: 198.51.100.2"))
          .startsWith("HTTP/1.1 200")
          .endsWith("client=198.51.100.2");
    }
  }

  @Test
  void disabled_passesEverything() throws IOException {
    int port = start(List.of(), new RateLimitConfig(false, 1, 1));
    try (Loopback two = Loopback.connect("127.0.0.2", port)) {
      for (int i = 0; i < 20; i++) {
        assertThat(two.get("/")).startsWith("HTTP/1.1 200");
      }
    }
    assertThat(registry.find("foobar.ratelimit.rejected").counter()).isNull();
  }

  @Test
  void idleBuckets_expireOnceFull_soSprayedAddressesDoNotAccumulate() throws IOException {
    // rate 10/s, burst 5: a bucket is full again 0.5 s after its last use
    RateLimitHandler limiter =
        RateLimitHandler.create(
            new RateLimitConfig(true, 10, 5), 100_000, ticker::get, registry, ECHO_CLIENT);
    for (int i = 0; i < 1000; i++) {
      limiter.take(InetAddress.getByAddress(new byte[] {10, 0, (byte) (i >> 8), (byte) i}));
    }
    InetAddress busy = InetAddress.getByName("192.0.2.7");
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.take(busy)).isZero();
    }
    assertThat(limiter.buckets()).isEqualTo(1001);

    ticker.addAndGet(SECOND / 2 - 1);
    assertThat(limiter.take(busy)).isZero();
    ticker.addAndGet(2);
    // the sprayed addresses' buckets were full again: gone; the busy one was just used: kept,
    // holding the 4 tokens left after that request
    assertThat(limiter.buckets()).isEqualTo(1);
    for (int i = 0; i < 4; i++) {
      assertThat(limiter.take(busy)).isZero();
    }
    assertThat(limiter.take(busy)).isPositive();
  }

  @Test
  void bucketCount_isCappedEvenWithinTheExpiryWindow() throws IOException {
    RateLimitHandler limiter =
        RateLimitHandler.create(
            new RateLimitConfig(true, 1, 60), 100, ticker::get, registry, ECHO_CLIENT);
    for (int i = 0; i < 10_000; i++) {
      limiter.take(InetAddress.getByAddress(new byte[] {10, 1, (byte) (i >> 8), (byte) i}));
    }
    assertThat(limiter.buckets()).isLessThanOrEqualTo(100);
  }

  @Test
  void zeroRate_whenEnabled_isRefusedWithTheValues() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                RateLimitHandler.wrap(
                    new RateLimitConfig(true, 0, 5), ticker::get, registry, "lb", ECHO_CLIENT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rate 0")
        .hasMessageContaining("burst 5");
  }
}
