package com.foobar.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.undertow.protocols.http2.HpackDecoder;
import io.undertow.protocols.http2.HpackEncoder;
import io.undertow.protocols.http2.Http2Channel;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http2.Http2ServerConnection;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Field;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PlainHpackEncoder}: its header blocks, decoded by Undertow's HPACK decoder, byte by byte
 * where RFC 7541 fixes them; and on a real HTTPS listener, whose HTTP/2 connections use it, read by
 * the JDK's HTTP/2 client and by h2load (scripts/test.sh installs nghttp2-client).
 */
class PlainHpackEncoderTest {
  static {
    TlsTesting.init();
  }

  private HttpServer server;
  private ServerTls tls;

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.stop();
    }
    if (tls != null) {
      tls.close();
    }
  }

  /** A decoded field: name, value, and whether it came as never indexed. */
  private record Decoded(String name, String value, boolean neverIndexed) {}

  private static List<Decoded> decode(HpackDecoder decoder, byte[] block) throws Exception {
    List<Decoded> fields = new ArrayList<>();
    decoder.setHeaderEmitter(
        (name, value, never) -> fields.add(new Decoded(name.toString(), value, never)));
    decoder.decode(ByteBuffer.wrap(block), false);
    return fields;
  }

  /** Encodes {@code headers} in one buffer of {@code size} bytes at a time, as Undertow does. */
  private static byte[] encode(HpackEncoder encoder, HeaderMap headers, int size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    HpackEncoder.State state;
    int calls = 0;
    do {
      ByteBuffer buffer = ByteBuffer.allocateDirect(size);
      state = encoder.encode(headers, buffer);
      buffer.flip();
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      out.writeBytes(bytes);
      assertThat(++calls).isLessThan(10_000);
    } while (state != HpackEncoder.State.COMPLETE);
    return out.toByteArray();
  }

  private static HeaderMap response() {
    HeaderMap h = new HeaderMap();
    h.put(Headers.SERVER, "nginx/1.22.1");
    h.put(new HttpString("X-Request-Id"), "6b0800c6-400");
    h.put(Headers.CONTENT_TYPE, "text/plain");
    h.add(Headers.SET_COOKIE, "a=1");
    h.add(Headers.SET_COOKIE, "b=2");
    h.put(Headers.CONTENT_LENGTH, "1024");
    h.put(Http2Channel.STATUS, "200");
    return h;
  }

  @Test
  void aResponseHead_decodesToItsFields_pseudoFieldFirst_namesInLowerCase_cookiesNeverIndexed()
      throws Exception {
    byte[] block = encode(new PlainHpackEncoder(), response(), 16 * 1024);

    List<Decoded> fields = decode(new HpackDecoder(4096), block);
    assertThat(fields.get(0)).isEqualTo(new Decoded(":status", "200", false));
    // the other fields in the map's order, a name's values in theirs
    assertThat(fields.subList(1, fields.size()))
        .containsExactlyInAnyOrder(
            new Decoded("server", "nginx/1.22.1", false),
            new Decoded("x-request-id", "6b0800c6-400", false),
            new Decoded("content-type", "text/plain", false),
            new Decoded("set-cookie", "a=1", true),
            new Decoded("set-cookie", "b=2", true),
            new Decoded("content-length", "1024", false));
    assertThat(fields.indexOf(new Decoded("set-cookie", "b=2", true)))
        .isEqualTo(fields.indexOf(new Decoded("set-cookie", "a=1", true)) + 1);
  }

  /** The block of a response head with {@code name: value} and nothing else. */
  private static String block(HttpString name, String value) {
    HeaderMap h = new HeaderMap();
    h.put(name, value);
    return HexFormat.of().formatHex(encode(new PlainHpackEncoder(), h, 1024));
  }

  @Test
  void fields_areLiteralsWithTheStaticNameIndex_notHuffmanCoded_andNeverAddedToTheTable() {
    // indexed: :status 200 is entry 8
    assertThat(block(Http2Channel.STATUS, "200")).isEqualTo("88");
    // literal without indexing (0000 and a 4-bit index): content-length is 28 = 15 + 13
    assertThat(block(Headers.CONTENT_LENGTH, "1024")).isEqualTo("0f0d04" + hex("1024"));
    // date is 33 = 15 + 18; 29 bytes, as they are
    assertThat(block(Headers.DATE, "Thu, 26 Nov 2026 09:53:24 GMT"))
        .isEqualTo("0f121d" + hex("Thu, 26 Nov 2026 09:53:24 GMT"));
    // a name the static table does not have: index 0, then the name in lower case
    assertThat(block(new HttpString("X-A"), "b")).isEqualTo("0003" + hex("x-a") + "01" + hex("b"));
    // never indexed (0001 and the index): set-cookie is 55 = 15 + 40
    assertThat(block(Headers.SET_COOKIE, "a=1")).isEqualTo("1f2803" + hex("a=1"));
  }

  private static String hex(String s) {
    return HexFormat.of().formatHex(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void everyNameOfTheStaticTable_isSentAsItsIndex_andDecodesToItself() throws Exception {
    // RFC 7541, Appendix A, entries 15 to 61 (transfer-encoding, 57, is not sent in HTTP/2)
    String names =
        "accept-charset accept-encoding accept-language accept-ranges accept"
            + " access-control-allow-origin age allow authorization cache-control"
            + " content-disposition content-encoding content-language content-length"
            + " content-location content-range content-type cookie date etag expect expires from"
            + " host if-match if-modified-since if-none-match if-range if-unmodified-since"
            + " last-modified link location max-forwards proxy-authenticate proxy-authorization"
            + " range referer refresh retry-after server set-cookie strict-transport-security"
            + " transfer-encoding user-agent vary via www-authenticate";
    int index = 15;
    for (String name : names.split(" ")) {
      HeaderMap h = new HeaderMap();
      h.put(new HttpString(name.toUpperCase(Locale.ROOT)), "v");
      byte[] block = encode(new PlainHpackEncoder(), h, 64);
      if (name.equals("transfer-encoding")) {
        assertThat(block).isEmpty();
      } else {
        // 4-bit prefix 15, then index - 15; the flag bit 0x10 for the never-indexed ones
        assertThat(block[0] & 0xEF).as(name).isEqualTo(0x0F);
        assertThat(block[1]).as(name).isEqualTo((byte) (index - 15));
        assertThat(decode(new HpackDecoder(4096), block))
            .extracting(Decoded::name)
            .containsExactly(name);
      }
      index++;
    }
    assertThat(index).isEqualTo(62);
  }

  @Test
  void otherStatuses_areALiteralValueOfTheStatusName() throws Exception {
    HeaderMap h = new HeaderMap();
    h.put(Http2Channel.STATUS, "503");

    byte[] block = encode(new PlainHpackEncoder(), h, 64);

    assertThat(HexFormat.of().formatHex(block)).isEqualTo("0803" + hex("503"));
    assertThat(decode(new HpackDecoder(4096), block))
        .containsExactly(new Decoded(":status", "503", false));
  }

  @Test
  void connectionSpecificFields_areNotSent_andCrLfNulInAValue_becomeBlanks() throws Exception {
    HeaderMap h = new HeaderMap();
    h.put(Http2Channel.STATUS, "200");
    h.put(Headers.CONNECTION, "keep-alive");
    h.put(Headers.KEEP_ALIVE, "timeout=5");
    h.put(Headers.TRANSFER_ENCODING, "chunked");
    h.put(Headers.UPGRADE, "websocket");
    h.put(new HttpString("Proxy-Connection"), "close");
    h.put(new HttpString("x-note"), "a\r\nb\0c");

    assertThat(decode(new HpackDecoder(4096), encode(new PlainHpackEncoder(), h, 1024)))
        .containsExactlyInAnyOrder(
            new Decoded(":status", "200", false), new Decoded("x-note", "a  b c", false));
  }

  @Test
  void aBlockLargerThanUndertowsBuffer_goesOnInTheNextCalls() throws Exception {
    HeaderMap h = response();
    for (int i = 0; i < 60; i++) {
      h.put(new HttpString("x-field-" + i), "v".repeat(100) + i);
    }
    byte[] whole = encode(new PlainHpackEncoder(), h, 64 * 1024);

    PlainHpackEncoder encoder = new PlainHpackEncoder();
    byte[] pieces = encode(encoder, h, 1000);

    assertThat(whole.length).isGreaterThan(6000);
    assertThat(pieces).isEqualTo(whole);
    assertThat(decode(new HpackDecoder(4096), pieces)).hasSize(67);
    // the next block starts afresh
    assertThat(encode(encoder, response(), 16 * 1024))
        .isEqualTo(encode(new PlainHpackEncoder(), response(), 16 * 1024));
  }

  @Test
  void aTableSizeThePeerSet_isAcknowledgedAtTheStartOfTheNextBlock_smallestFirst() {
    HeaderMap h = new HeaderMap();
    h.put(Http2Channel.STATUS, "200");
    PlainHpackEncoder encoder = new PlainHpackEncoder();

    encoder.setMaxTableSize(100);
    // 0x20 | 31, then 100 - 31 = 69
    assertThat(HexFormat.of().formatHex(encode(encoder, h, 64))).isEqualTo("3f4588");
    assertThat(HexFormat.of().formatHex(encode(encoder, h, 64))).isEqualTo("88");

    encoder.setMaxTableSize(0);
    encoder.setMaxTableSize(4096);
    // 0: 0x20; 4096: 0x3f, then 4065 = 0x61 | 0x80, 0x1f
    assertThat(HexFormat.of().formatHex(encode(encoder, h, 64))).isEqualTo("203fe11f88");
  }

  private int startHttps() {
    tls = ServerTls.builder("tls").selfSigned("www.foobar.test", Clock.systemUTC()).build();
    AtomicInteger count = new AtomicInteger();
    HttpHandler handler =
        ex -> {
          int n = count.incrementAndGet();
          ex.getResponseHeaders().put(new HttpString("X-Count"), Integer.toString(n));
          ex.getResponseHeaders().put(new HttpString("X-Encoder"), encoderOf(ex));
          ex.getResponseSender().send("n" + n);
        };
    server =
        HttpServer.builder(TlsTesting.LIMITS, new SimpleMeterRegistry())
            .httpsListener(
                "tls",
                new HostPort("127.0.0.1", 0),
                AccessRule.of(List.of(Cidr.parse("127.0.0.0/8")), List.of()),
                Optional.empty(),
                "static",
                handler,
                tls,
                false,
                true)
            // a listener with a connection guard is opened by Acceptor, which installs the encoder
            .connectionGuard(
                "tls",
                ConnectionGuard.create(100, 100, List.of(), new SimpleMeterRegistry(), "tls"))
            .start();
    return server.address("tls").port();
  }

  /** The simple name of the HPACK encoder of the HTTP/2 connection of {@code ex}. */
  private static String encoderOf(io.undertow.server.HttpServerExchange ex) throws Exception {
    if (!(ex.getConnection() instanceof Http2ServerConnection c)) {
      return "none";
    }
    Field channel = Http2ServerConnection.class.getDeclaredField("channel");
    channel.setAccessible(true);
    Field encoder = Http2Channel.class.getDeclaredField("encoder");
    encoder.setAccessible(true);
    return encoder.get(channel.get(c)).getClass().getSimpleName();
  }

  @Test
  void http2Connections_useIt_andTheJdkClientReadsEveryResponseOfAConnection() throws Exception {
    int port = startHttps();
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_2)
            .sslContext(TlsTesting.trusting(tls.current().leaf()))
            .build();

    for (int i = 1; i <= 50; i++) {
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("x-encoder")).hasValue("PlainHpackEncoder");
      assertThat(r.headers().firstValue("x-count")).hasValue(r.body().substring(1));
      assertThat(r.headers().firstValue("content-length"))
          .hasValue(Integer.toString(r.body().length()));
    }
  }

  @Test
  void h2load_negotiatesH2_andDecodesEveryResponse() throws Exception {
    int port = startHttps();
    H2Load.assertEveryRequestSucceeds("https://127.0.0.1:" + port + "/", 2000);
  }
}
