package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import com.foobar.core.Metrics;
import com.foobar.core.ServerTls;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** WebSocket upgrades through the lb: wss from the client, plain ws to an Undertow backend. */
class WebSocketPassThroughTest {
  private final Metrics metrics = Metrics.create("test");
  private Undertow backend;
  private LoadBalancer lb;

  @AfterEach
  void stop() throws Exception {
    if (lb != null) {
      lb.stop();
    }
    if (backend != null) {
      backend.stop();
    }
    metrics.close();
  }

  /** An Undertow backend: {@code /echo} echoes text frames prefixed "echo: ", the rest is 200. */
  private String echoBackend() {
    backend =
        Undertow.builder()
            .addHttpListener(0, "127.0.0.1")
            .setHandler(
                Handlers.path(exchange -> exchange.getResponseSender().send("ok"))
                    .addExactPath(
                        "/echo",
                        Handlers.websocket(
                            (exchange, channel) -> {
                              channel
                                  .getReceiveSetter()
                                  .set(
                                      new AbstractReceiveListener() {
                                        @Override
                                        protected void onFullTextMessage(
                                            WebSocketChannel ch, BufferedTextMessage message) {
                                          WebSockets.sendText(
                                              "echo: " + message.getData(), ch, null);
                                        }
                                      });
                              channel.resumeReceives();
                            })))
            .build();
    backend.start();
    InetSocketAddress address = (InetSocketAddress) backend.getListenerInfo().get(0).getAddress();
    return "http://127.0.0.1:" + address.getPort();
  }

  @Test
  void webSocketUpgrade_overWss_passesThroughToTheBackend_andOutlivesTheRequestTimeout()
      throws Exception {
    ServerTls tls = TestLb.selfSigned();
    TestLb config = new TestLb().backend(echoBackend(), 1);
    config.requestTimeout = Duration.ofMillis(500);
    lb = LoadBalancer.start(config.build(), metrics, tls, Optional.empty());
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    WebSocket.Listener listener =
        new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            received.add(data.toString());
            ws.request(1);
            return null;
          }
        };
    HttpClient client =
        HttpClient.newBuilder()
            .sslContext(TestLb.trusting(tls))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    URI uri = URI.create("wss://localhost:" + lb.httpsAddress().port() + "/echo");

    WebSocket ws =
        client
            .newWebSocketBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .buildAsync(uri, listener)
            .get(10, TimeUnit.SECONDS);
    ws.sendText("hello", true).get(5, TimeUnit.SECONDS);
    assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: hello");
    // lb.request-timeout bounds the upgrade request, not the connection it turns into; Undertow's
    // timer runs on the wall clock, so time has to pass for real here; past the expiry of the
    // upgrade request too (BalancingClient), which must not count as a failure of the backend
    TimeUnit.MILLISECONDS.sleep(500 + BalancingClient.EXPIRY_GRACE_MILLIS + 300);
    ws.sendText("again", true).get(5, TimeUnit.SECONDS);
    assertThat(received.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: again");
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    assertThat(
            metrics
                .registry()
                .get("foobar.lb.backend.errors")
                .tag("backend", config.backends.get(0).url().toString())
                .counter()
                .count())
        .isZero();
  }
}
