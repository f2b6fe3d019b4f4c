package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.AccessConfig;
import com.foobar.core.AccessLogConfig;
import com.foobar.core.Cidr;
import com.foobar.core.DataSize;
import com.foobar.core.HostPort;
import com.foobar.core.HttpLimits;
import com.foobar.core.LbConfig;
import com.foobar.core.ServerTls;
import com.foobar.core.TlsEngine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.net.URI;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Test configuration with short timings, a fake ticker and self-signed TLS. */
final class TestLb {
  List<LbConfig.BackendRef> backends = new ArrayList<>();
  LbConfig.Balance balance = LbConfig.Balance.ROUND_ROBIN;
  LbConfig.HealthConfig health =
      new LbConfig.HealthConfig("/ready", Duration.ofMillis(50), Duration.ofMillis(500), 2, 3);
  LbConfig.PassiveConfig passive =
      new LbConfig.PassiveConfig(3, Duration.ofSeconds(1), Duration.ofSeconds(4));
  Duration slowStart = Duration.ZERO;
  LbConfig.RetryConfig retries = new LbConfig.RetryConfig(2, 20, Duration.ofSeconds(10));
  LbConfig.PoolConfig pool = new LbConfig.PoolConfig(64, 64, Duration.ofSeconds(2));
  Duration requestTimeout = Duration.ofSeconds(10);
  String hsts = "max-age=63072000; includeSubDomains";
  LbConfig.RateLimitConfig rateLimit = new LbConfig.RateLimitConfig(false, 100, 200);
  List<Cidr> trustedProxies = List.of();
  boolean proxyProtocol = false;
  List<Cidr> deny = List.of();
  int maxConnections = 10000;
  int maxConnectionsPerIp = 256;
  boolean redirectHttp = true;
  HostPort https = new HostPort("127.0.0.1", 0);
  int maxHeaders = 100;
  Duration idleTimeout = Duration.ofSeconds(60);
  long maxBody = 10 << 20;
  AccessLogConfig accessLog =
      new AccessLogConfig(false, AccessLogConfig.Format.JSON, Optional.empty());

  TestLb backend(String url, int weight) {
    backends.add(new LbConfig.BackendRef(URI.create(url), weight));
    return this;
  }

  LbConfig build() {
    HostPort any = new HostPort("127.0.0.1", 0);
    List<Cidr> all = List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"));
    return new LbConfig(
        https,
        any,
        redirectHttp,
        any,
        new AccessConfig(all, List.of()),
        Optional.empty(),
        List.of(),
        TlsEngine.JDK,
        hsts,
        all,
        deny,
        trustedProxies,
        proxyProtocol,
        rateLimit,
        maxConnections,
        maxConnectionsPerIp,
        new HttpLimits(
            new DataSize(8192),
            new DataSize(16384),
            maxHeaders,
            Duration.ofSeconds(10),
            idleTimeout,
            new DataSize(maxBody)),
        requestTimeout,
        accessLog,
        List.copyOf(backends),
        balance,
        health,
        passive,
        slowStart,
        retries,
        pool,
        Optional.empty(),
        Duration.ofSeconds(5));
  }

  /** The URL of {@code lb}'s listener called {@code listener}, with {@code path}. */
  static String url(LoadBalancer lb, String listener, String path) {
    return lb.listeners().stream()
            .filter(l -> l.name().equals(listener))
            .findFirst()
            .orElseThrow()
            .url()
        + path;
  }

  /** Waits up to 10 s for {@code condition}, checking every 20 ms; fails the test after. */
  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("condition within 10 s").isNegative();
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** A ticker that moves only when told. */
  static final class FakeTicker implements Ticker {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Override
    public long read() {
      return nanos.get();
    }

    FakeTicker advance(Duration d) {
      nanos.addAndGet(d.toNanos());
      return this;
    }
  }

  /** A self-signed certificate for localhost/127.0.0.1 from core's TLS material. */
  static ServerTls selfSigned() {
    return ServerTls.builder(LoadBalancer.HTTPS_LISTENER)
        .selfSigned("localhost", Clock.systemUTC())
        .build();
  }

  /** A client context that trusts exactly {@code server}'s certificate. */
  static SSLContext trusting(ServerTls server) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("lb", server.current().leaf());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
