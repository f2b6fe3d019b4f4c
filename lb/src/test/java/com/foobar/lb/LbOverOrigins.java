package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.Metrics;
import com.foobar.core.ServerTls;
import com.github.benmanes.caffeine.cache.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * A test class whose tests each start an lb over {@link RelayTest.Origin}s: the self-signed
 * certificate and a client context trusting it, the meters, and the stop after each test.
 */
abstract class LbOverOrigins {
  static ServerTls tls;
  static SSLContext clientTls;
  final Metrics metrics = Metrics.create("test");
  final List<RelayTest.Origin> origins = new ArrayList<>();
  LoadBalancer lb;

  @BeforeAll
  static void certificate() throws Exception {
    tls = TestLb.selfSigned();
    clientTls = TestLb.trusting(tls);
  }

  @AfterEach
  void stop() throws Exception {
    if (lb != null) {
      lb.stop();
    }
    for (RelayTest.Origin o : origins) {
      o.close();
    }
    metrics.close();
  }

  /**
   * Starts {@code count} origins and the lb over them, configured by {@code tweak}; waits until
   * each origin was health-checked.
   */
  List<RelayTest.Origin> startLb(int count, Consumer<TestLb> tweak) throws Exception {
    TestLb config = new TestLb();
    for (int i = 0; i < count; i++) {
      RelayTest.Origin o = new RelayTest.Origin();
      origins.add(o);
      config.backend(o.url(), 1);
    }
    tweak.accept(config);
    lb = LoadBalancer.start(config.build(), metrics, tls, Optional.empty(), Ticker.systemTicker());
    for (RelayTest.Origin o : origins) {
      assertThat(o.requests.poll(5, TimeUnit.SECONDS)).startsWith("GET /ready");
    }
    return origins;
  }
}
