package com.foobar.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.foobar.core.Cidr;
import com.foobar.core.Metrics;
import com.foobar.core.ServerTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The lb's public listeners at accept time, on loopback with clients bound to 127.0.0.x: connection
 * caps, PROXY protocol from trusted proxies, TLS handshake meters.
 */
class PublicListenersTest {
  static ServerTls tls;
  static SSLContext clientTls;

  private final Metrics metrics = Metrics.create("test");
  private final List<Socket> sockets = new ArrayList<>();
  private LoadBalancerTest.Tiny backend;
  private LoadBalancer lb;

  @BeforeAll
  static void certificate() throws Exception {
    tls = TestLb.selfSigned();
    clientTls = TestLb.trusting(tls);
  }

  @AfterEach
  void stop() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    if (lb != null) {
      lb.stop();
    }
    if (backend != null) {
      backend.server.stop(0);
    }
    metrics.close();
  }

  private TestLb config() throws IOException {
    backend = new LoadBalancerTest.Tiny("a");
    return new TestLb().backend(backend.url(), 1);
  }

  private void start(TestLb config) {
    lb = LoadBalancer.start(config.build(), metrics, tls, Optional.empty());
  }

  private int port(String listener) {
    return lb.listeners().stream()
        .filter(l -> l.name().equals(listener))
        .findFirst()
        .orElseThrow()
        .address()
        .port();
  }

  /** A TCP connection from {@code local} to the lb's {@code listener}. */
  private Socket connect(String local, String listener) throws IOException {
    Socket s = new Socket();
    sockets.add(s);
    s.bind(new InetSocketAddress(local, 0));
    s.connect(new InetSocketAddress("127.0.0.1", port(listener)), 5000);
    s.setSoTimeout(5000);
    return s;
  }

  /** A finished TLS handshake from {@code local}, offering {@code alpn}. */
  private SSLSocket tlsFrom(String local, String... alpn) throws IOException {
    Socket plain = connect(local, LoadBalancer.HTTPS_LISTENER);
    SSLSocket s =
        (SSLSocket)
            clientTls.getSocketFactory().createSocket(plain, "localhost", plain.getPort(), true);
    sockets.add(s);
    SSLParameters p = s.getSSLParameters();
    p.setApplicationProtocols(alpn.length == 0 ? new String[] {"http/1.1"} : alpn);
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  /** The connection was closed by the lb without an answer (not merely slow). */
  private static void assertClosedByPeer(Socket s) {
    try {
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    } catch (IOException e) {
      assertThat(e).isNotInstanceOf(SocketTimeoutException.class);
    }
  }

  /** The status line of the answer to a GET sent on {@code s}, which stays open. */
  private static String statusLine(Socket s, String path) throws IOException {
    s.getOutputStream()
        .write(
            ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    return line(s.getInputStream());
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("closed after " + b);
      }
      b.write(c);
    }
    return b.toString(StandardCharsets.US_ASCII).trim();
  }

  /** The sum of the meters called {@code name} with {@code tags}; 0 when there are none yet. */
  private double meter(String name, String... tags) {
    return metrics.registry().find(name).tags(tags).meters().stream()
        .mapToDouble(m -> m.measure().iterator().next().getValue())
        .sum();
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("condition within 10 s").isNegative();
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  @Test
  void perIpCap_thirdTlsConnectionFromOneIpClosed_otherIpServed_slotFreedOnClose()
      throws Exception {
    TestLb config = config();
    config.maxConnectionsPerIp = 2;
    start(config);

    SSLSocket first = tlsFrom("127.0.0.2", "h2", "http/1.1");
    assertThat(first.getApplicationProtocol()).isEqualTo("h2");
    tlsFrom("127.0.0.2");
    assertThatThrownBy(() -> tlsFrom("127.0.0.2"))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(SocketTimeoutException.class);
    SSLSocket other = tlsFrom("127.0.0.3");
    assertThat(statusLine(other, "/x")).isEqualTo("HTTP/1.1 200 OK");

    String[] https = {"listener", LoadBalancer.HTTPS_LISTENER};
    assertThat(meter("foobar.connections.refused", "listener", "lb-https", "reason", "per_ip"))
        .isEqualTo(1);
    assertThat(meter("foobar.connections.open", https)).isEqualTo(3);
    first.close();
    await(() -> meter("foobar.connections.open", https) == 2);
    assertThat(statusLine(tlsFrom("127.0.0.2"), "/y")).isEqualTo("HTTP/1.1 200 OK");
    // the server may read a TLS 1.3 client's Finished after the client's handshake returned
    await(() -> meter("foobar.tls.handshakes", "listener", "lb-https", "protocol", "TLSv1.3") == 4);
  }

  @Test
  void totalCap_onTheHttpListener_closesTheConnectionOverIt_untilOneCloses() throws Exception {
    TestLb config = config();
    config.maxConnections = 2;
    start(config);

    Socket first = connect("127.0.0.2", LoadBalancer.HTTP_LISTENER);
    assertThat(statusLine(first, "/a")).isEqualTo("HTTP/1.1 308 Permanent Redirect");
    Socket second = connect("127.0.0.3", LoadBalancer.HTTP_LISTENER);
    assertThat(statusLine(second, "/a")).isEqualTo("HTTP/1.1 308 Permanent Redirect");
    assertClosedByPeer(connect("127.0.0.4", LoadBalancer.HTTP_LISTENER));
    assertThat(meter("foobar.connections.refused", "listener", "lb-http", "reason", "total"))
        .isEqualTo(1);
    // the HTTPS listener has caps of its own
    assertThat(statusLine(tlsFrom("127.0.0.4"), "/b")).isEqualTo("HTTP/1.1 200 OK");

    first.close();
    await(() -> meter("foobar.connections.open", "listener", "lb-http") == 1);
    assertThat(statusLine(connect("127.0.0.4", LoadBalancer.HTTP_LISTENER), "/a"))
        .isEqualTo("HTTP/1.1 308 Permanent Redirect");
  }

  @Test
  void trustedProxies_areHeldToTheTotalCapOnly() throws Exception {
    TestLb config = config();
    config.maxConnectionsPerIp = 1;
    config.trustedProxies = List.of(Cidr.parse("127.0.0.5/32"));
    start(config);

    for (int i = 0; i < 3; i++) {
      assertThat(statusLine(tlsFrom("127.0.0.5"), "/p")).isEqualTo("HTTP/1.1 200 OK");
    }
    tlsFrom("127.0.0.2");
    assertThatThrownBy(() -> tlsFrom("127.0.0.2")).isInstanceOf(IOException.class);
  }

  /**
   * A PROXY protocol v2 header (PROXY command, TCP over IPv4) saying the connection comes from
   * {@code source}:40000.
   */
  private static byte[] proxyV2(String source, int destinationPort) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(16 + 12);
    b.put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
    b.put((byte) 0x21); // version 2, PROXY
    b.put((byte) 0x11); // AF_INET, STREAM
    b.putShort((short) 12);
    b.put(InetAddress.getByName(source).getAddress());
    b.put(InetAddress.getByName("127.0.0.1").getAddress());
    b.putShort((short) 40000);
    b.putShort((short) destinationPort);
    return b.array();
  }

  /** A GET over TLS on a connection from {@code local} that first sends {@code header}. */
  private String httpsAfter(String local, byte[] header, String path) throws IOException {
    Socket plain = connect(local, LoadBalancer.HTTPS_LISTENER);
    plain.getOutputStream().write(header);
    SSLSocket s =
        (SSLSocket)
            clientTls.getSocketFactory().createSocket(plain, "localhost", plain.getPort(), true);
    sockets.add(s);
    return statusLine(s, path);
  }

  private TestLb proxied() throws IOException {
    TestLb config = config();
    config.proxyProtocol = true;
    config.trustedProxies = List.of(Cidr.parse("127.0.0.1/32"));
    return config;
  }

  @Test
  void proxyProtocolV2_fromTrustedPeer_headerSourceIsTheClient() throws Exception {
    start(proxied());
    int port = port(LoadBalancer.HTTPS_LISTENER);

    assertThat(httpsAfter("127.0.0.1", proxyV2("10.1.2.3", port), "/pp"))
        .isEqualTo("HTTP/1.1 200 OK");

    assertThat(backend.lastHeaders).containsEntry("x-forwarded-for", "10.1.2.3");
  }

  @Test
  void proxyProtocolV2_deniedHeaderSource_gets403() throws Exception {
    TestLb config = proxied();
    config.deny = List.of(Cidr.parse("10.1.2.3/32"));
    start(config);
    int port = port(LoadBalancer.HTTPS_LISTENER);

    assertThat(httpsAfter("127.0.0.1", proxyV2("10.1.2.3", port), "/pp"))
        .startsWith("HTTP/1.1 403");
    assertThat(httpsAfter("127.0.0.1", proxyV2("10.1.2.4", port), "/pp"))
        .isEqualTo("HTTP/1.1 200 OK");
    assertThat(backend.hits.get()).isEqualTo(1);
  }

  @Test
  void proxyProtocol_headerFromUntrustedPeerNotBelieved_trustedPeerWithoutHeaderClosed()
      throws Exception {
    TestLb config = proxied();
    config.redirectHttp = false;
    start(config);
    int port = port(LoadBalancer.HTTP_LISTENER);

    Socket untrusted = connect("127.0.0.2", LoadBalancer.HTTP_LISTENER);
    untrusted.getOutputStream().write(proxyV2("10.1.2.3", port));
    assertThat(statusLine(untrusted, "/u")).startsWith("HTTP/1.1 400");
    Socket bare = connect("127.0.0.1", LoadBalancer.HTTP_LISTENER);
    bare.getOutputStream()
        .write("GET /b HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    assertClosedByPeer(bare);
    assertThat(backend.hits.get()).isZero();

    assertThat(statusLine(connect("127.0.0.2", LoadBalancer.HTTP_LISTENER), "/ok"))
        .isEqualTo("HTTP/1.1 200 OK");
    assertThat(backend.lastHeaders).containsEntry("x-forwarded-for", "127.0.0.2");
  }

  @Test
  void tlsHandshakes_countedByProtocol_failuresByReason_andShownOnStats() throws Exception {
    start(config());
    HttpClient h2 = HttpClient.newBuilder().sslContext(clientTls).build();
    String url = "https://localhost:" + port(LoadBalancer.HTTPS_LISTENER) + "/";
    assertThat(h2.send(HttpRequest.newBuilder(URI.create(url)).build(), discarding()).version())
        .isEqualTo(HttpClient.Version.HTTP_2);
    SSLSocket v12 = tlsFrom12();
    assertThat(v12.getSession().getProtocol()).isEqualTo("TLSv1.2");
    Socket cbcOnly = connect("127.0.0.2", LoadBalancer.HTTPS_LISTENER);
    SSLSocket refused =
        (SSLSocket)
            clientTls
                .getSocketFactory()
                .createSocket(cbcOnly, "localhost", cbcOnly.getPort(), true);
    sockets.add(refused);
    refused.setEnabledProtocols(new String[] {"TLSv1.2"});
    refused.setEnabledCipherSuites(new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"});
    assertThatThrownBy(refused::startHandshake).isInstanceOf(IOException.class);

    String[] lbHttps = {"listener", LoadBalancer.HTTPS_LISTENER};
    assertThat(meter("foobar.tls.handshakes", "listener", "lb-https", "protocol", "TLSv1.3"))
        .isEqualTo(1);
    assertThat(meter("foobar.tls.handshakes", "listener", "lb-https", "protocol", "TLSv1.2"))
        .isEqualTo(1);
    await(() -> meter("foobar.tls.handshake.failures", lbHttps) == 1);
    assertThat(meter("foobar.tls.handshake.failures", "listener", "lb-https", "reason", "cipher"))
        .isEqualTo(1);

    String stats =
        lb.listeners().stream()
                .filter(l -> l.name().equals(LoadBalancer.ADMIN_LISTENER))
                .findFirst()
                .orElseThrow()
                .url()
            + "/stats?format=json";
    JsonNode json =
        new ObjectMapper()
            .readTree(
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(URI.create(stats)).build(),
                        HttpResponse.BodyHandlers.ofString())
                    .body());
    JsonNode https = json.get("listeners").get(0);
    assertThat(https.get("listener").asText()).isEqualTo(LoadBalancer.HTTPS_LISTENER);
    assertThat(https.get("tls_handshakes").asLong()).isEqualTo(2);
    assertThat(https.get("tls_handshake_failures").asLong()).isEqualTo(1);
    assertThat(https.get("connections_open").asLong()).isGreaterThanOrEqualTo(1);
  }

  private SSLSocket tlsFrom12() throws IOException {
    Socket plain = connect("127.0.0.2", LoadBalancer.HTTPS_LISTENER);
    SSLSocket s =
        (SSLSocket)
            clientTls.getSocketFactory().createSocket(plain, "localhost", plain.getPort(), true);
    sockets.add(s);
    s.setEnabledProtocols(new String[] {"TLSv1.2"});
    s.startHandshake();
    return s;
  }

  private static HttpResponse.BodyHandler<Void> discarding() {
    return HttpResponse.BodyHandlers.discarding();
  }
}
