package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.foobar.core.ServerTls;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.SSLSessionInfo;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * On a real HTTPS listener, over HTTP/2 and HTTP/1.1: after {@link NoClientCertificate#apply}, the
 * request's TLS session answers "no client certificate" with one prepared exception (Undertow's own
 * makes two new ones per call) and reports the session's real suite.
 */
class NoClientCertificateTest {
  private Undertow server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop();
    }
  }

  @Test
  @SuppressWarnings({
    "deprecation",
    "removal"
  }) // getPeerCertificateChain: what Undertow's proxy calls
  void sessionOfEachRequest_refusesCertificatesWithOneException_andDelegatesTheRest()
      throws Exception {
    ServerTls tls = ServerTls.builder("test").selfSigned("localhost", Clock.systemUTC()).build();
    server =
        Undertow.builder()
            .addHttpsListener(0, "127.0.0.1", tls.sslContext())
            .setServerOption(UndertowOptions.ENABLE_HTTP2, true)
            .setHandler(
                exchange -> {
                  NoClientCertificate.apply(exchange);
                  SSLSessionInfo info = exchange.getConnection().getSslSessionInfo();
                  Throwable first = catchThrowable(info::getPeerCertificates);
                  Throwable second = catchThrowable(info::getPeerCertificateChain);
                  exchange
                      .getResponseSender()
                      .send(
                          (info instanceof NoClientCertificate)
                              + " "
                              + (first instanceof SSLPeerUnverifiedException)
                              + " "
                              + (first == second)
                              + " "
                              + info.getCipherSuite()
                                  .equals(info.getSSLSession().getCipherSuite()));
                })
            .build();
    server.start();
    int port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
    for (HttpClient.Version version : HttpClient.Version.values()) {
      HttpClient client =
          HttpClient.newBuilder()
              .sslContext(TestLb.trusting(tls))
              .version(version)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      for (int i = 0; i < 2; i++) {
        HttpResponse<String> r =
            client.send(
                HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(version);
        assertThat(r.body()).as(version + " request " + i).isEqualTo("true true true true");
      }
    }
  }
}
