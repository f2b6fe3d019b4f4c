package com.foobar.core;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.protocols.http2.HpackEncoder;
import io.undertow.protocols.http2.Http2Channel;
import io.undertow.server.DelegateOpenListener;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.xnio.ChannelListener;
import org.xnio.StreamConnection;

/**
 * The HPACK encoder (RFC 7541) of the HTTP/2 connections {@link Acceptor} opens, in place of
 * Undertow's: every header field is a literal that the peer does not add to its dynamic table, its
 * name given by its index in the static table when it has one (else as lower-case bytes), its value
 * as it is, without Huffman coding; {@code :status} with a value of the static table is one byte.
 * HAProxy encodes its HTTP/2 responses the same way.
 *
 * <p>Undertow's encoder adds nearly every field to the dynamic table and Huffman-codes values of
 * more than ten characters. A response's fresh values (the lb's {@code X-Request-Id} above all)
 * each enter the table, evict what was there and are looked up, one by one, among the values of
 * their name; the fields they evicted are coded and added again. Under h2load that was a tenth of
 * the lb's CPU. A response head costs more bytes this way (176 instead of 77 for the nine fields of
 * a static file through the lb), a fraction of a TCP segment.
 *
 * <p>The dynamic table stays empty, but a size the peer set with {@code SETTINGS_HEADER_TABLE_SIZE}
 * is still acknowledged at the start of the next header block, as RFC 7541 (4.2) asks and decoders
 * such as nghttp2's check.
 *
 * <p>Undertow builds its encoder inside its open listener: {@link #around} puts this one in,
 * through reflection, before the connection reads its first frame. The class fails to load if an
 * Undertow upgrade renames what it reaches; {@code PlainHpackEncoderTest} checks that connections
 * get it.
 */
final class PlainHpackEncoder extends HpackEncoder {
  /** RFC 7541, Appendix A: the static table's names; a name's first index is the one used. */
  private static final String[] STATIC_NAMES =
      (":authority :method :method :path :path :scheme :scheme :status :status :status "
              + ":status :status :status :status accept-charset accept-encoding accept-language "
              + "accept-ranges accept access-control-allow-origin age allow authorization "
              + "cache-control content-disposition content-encoding content-language "
              + "content-length content-location content-range content-type cookie date etag "
              + "expect expires from host if-match if-modified-since if-none-match if-range "
              + "if-unmodified-since last-modified link location max-forwards proxy-authenticate "
              + "proxy-authorization range referer refresh retry-after server set-cookie "
              + "strict-transport-security transfer-encoding user-agent vary via "
              + "www-authenticate")
          .split(" ");

  /** In {@link #NAMES}: the field is connection-specific and is not sent (RFC 9113, 8.2.2). */
  private static final int DROP = 1 << 16;

  /** In {@link #NAMES}: the field is sent as never indexed (RFC 7541, 7.1.3). */
  private static final int SENSITIVE = 1 << 17;

  /**
   * For each name that needs more than a literal: its static index and flags. Keyed, where Undertow
   * has one, by the {@link Headers} constant, the instance its own code and the lb's parsing of a
   * backend's head use, so that the lookup mostly ends at an identity comparison.
   */
  private static final Map<HttpString, Integer> NAMES = new HashMap<>();

  /** Undertow's frame reader, the read listener of an HTTP/2 connection. */
  private static final Class<?> FRAME_READER;

  private static final MethodHandle FRAMED_CHANNEL;
  private static final MethodHandle SET_ENCODER;

  static {
    Map<String, HttpString> constants = new HashMap<>();
    for (HttpString pseudo :
        new HttpString[] {
          Http2Channel.AUTHORITY,
          Http2Channel.METHOD,
          Http2Channel.PATH,
          Http2Channel.SCHEME,
          Http2Channel.STATUS
        }) {
      constants.put(pseudo.toString(), pseudo);
    }
    try {
      for (Field f : Headers.class.getFields()) {
        if (Modifier.isStatic(f.getModifiers()) && f.getType() == HttpString.class) {
          HttpString h = (HttpString) f.get(null);
          constants.putIfAbsent(h.toString().toLowerCase(Locale.ROOT), h);
        }
      }
      FRAME_READER =
          Class.forName(
              "io.undertow.server.protocol.framed.AbstractFramedChannel$FrameReadListener");
      Field outer = FRAME_READER.getDeclaredField("this$0");
      outer.setAccessible(true);
      Field encoder = Http2Channel.class.getDeclaredField("encoder");
      encoder.setAccessible(true);
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      FRAMED_CHANNEL = lookup.unreflectGetter(outer);
      SET_ENCODER = lookup.unreflectSetter(encoder);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
    for (int i = STATIC_NAMES.length - 1; i >= 0; i--) {
      String name = STATIC_NAMES[i];
      NAMES.put(constants.getOrDefault(name, new HttpString(name)), i + 1);
    }
    for (String name : new String[] {"connection", "keep-alive", "proxy-connection", "upgrade"}) {
      NAMES.put(constants.getOrDefault(name, new HttpString(name)), DROP);
    }
    NAMES.compute(Headers.TRANSFER_ENCODING, (k, v) -> v | DROP);
    for (HttpString name :
        new HttpString[] {
          Headers.AUTHORIZATION, Headers.COOKIE, Headers.PROXY_AUTHORIZATION, Headers.SET_COOKIE
        }) {
      NAMES.compute(name, (k, v) -> v | SENSITIVE);
    }
  }

  /** The table size to acknowledge at the start of the next block; -1 for none. */
  private int sizeUpdate = -1;

  /** The smallest size set since the last block, acknowledged first when below the last. */
  private int smallestUpdate = -1;

  /**
   * Where a block is written before it goes to Undertow's buffer in one copy (a direct buffer
   * checks every single byte put into it); grows with the largest block.
   */
  private byte[] block = new byte[512];

  /** The end of the block in {@link #block}. */
  private int length;

  /**
   * How much of the block Undertow's buffers took; less than {@link #length} while it overflows.
   */
  private int sent;

  PlainHpackEncoder() {
    // Undertow's table and state in the superclass are never used
    super(0);
  }

  /**
   * Undertow's HTTP/2 open listener {@code h2} with the connections it opens encoding their header
   * blocks with a {@code PlainHpackEncoder}.
   */
  static DelegateOpenListener around(DelegateOpenListener h2) {
    return new ForwardingOpenListener(h2) {
      @Override
      public void handleEvent(StreamConnection connection, PooledByteBuffer buffer) {
        undertow.handleEvent(connection, buffer);
        // the connection has its frame reader and read nothing yet: Undertow's open listener
        // leaves the first read to a task of the IO thread
        install(connection);
      }
    };
  }

  /** Gives the HTTP/2 connection on {@code connection} a new {@code PlainHpackEncoder}. */
  static void install(StreamConnection connection) {
    ChannelListener<?> reader = connection.getSourceChannel().getReadListener();
    if (reader == null || reader.getClass() != FRAME_READER) {
      // the open listener closed the connection
      return;
    }
    try {
      Object channel = FRAMED_CHANNEL.invoke(reader);
      if (channel instanceof Http2Channel h2) {
        SET_ENCODER.invoke(h2, new PlainHpackEncoder());
      }
    } catch (Throwable e) {
      throw new IllegalStateException("installing the HPACK encoder", e);
    }
  }

  @Override
  public void setMaxTableSize(int size) {
    sizeUpdate = size;
    smallestUpdate = smallestUpdate < 0 ? size : Math.min(smallestUpdate, size);
  }

  @Override
  public State encode(HeaderMap headers, ByteBuffer target) {
    if (sent == length) {
      write(headers);
      sent = 0;
    }
    int n = Math.min(length - sent, target.remaining());
    target.put(block, sent, n);
    sent += n;
    // Undertow goes on with the rest in a CONTINUATION frame
    return sent == length ? State.COMPLETE : State.OVERFLOW;
  }

  /** Writes the header block of {@code headers}: the pseudo-header fields first (RFC 9113, 8.3). */
  private void write(HeaderMap headers) {
    length = 0;
    if (sizeUpdate >= 0) {
      room(12);
      if (smallestUpdate < sizeUpdate) {
        integer(0x20, 5, smallestUpdate);
      }
      integer(0x20, 5, sizeUpdate);
      sizeUpdate = -1;
      smallestUpdate = -1;
    }
    fields(headers, true);
    fields(headers, false);
  }

  private void fields(HeaderMap headers, boolean pseudo) {
    for (long it = headers.fastIterate(); it != -1L; it = headers.fiNext(it)) {
      HeaderValues values = headers.fiCurrent(it);
      HttpString name = values.getHeaderName();
      if ((name.byteAt(0) == ':') != pseudo) {
        continue;
      }
      Integer known = NAMES.get(name);
      int code = known == null ? 0 : known;
      if ((code & DROP) != 0) {
        continue;
      }
      for (int i = 0; i < values.size(); i++) {
        field(name, code, values.get(i));
      }
    }
  }

  // String.getBytes(int, int, byte[], int) keeps the low eight bits of each char, as a field value
  // of ISO-8859-1 needs, and copies a string stored as such (all of a backend's) in one go
  @SuppressWarnings("deprecation")
  private void field(HttpString name, int code, String value) {
    int index = code & 0xFFFF;
    if (index == 8) {
      int full = statusIndex(value);
      if (full > 0) {
        // indexed field (6.1)
        room(1);
        block[length++] = (byte) (0x80 | full);
        return;
      }
    }
    int n = name.length();
    int v = value.length();
    room(12 + n + v);
    byte[] b = block;
    // literal without indexing (6.2.2) or never indexed (6.2.3)
    int first = (code & SENSITIVE) != 0 ? 0x10 : 0x00;
    if (index > 0) {
      integer(first, 4, index);
    } else {
      b[length++] = (byte) first;
      integer(0, 7, n);
      for (int i = 0; i < n; i++) {
        byte c = name.byteAt(i);
        b[length++] = c >= 'A' && c <= 'Z' ? (byte) (c + ('a' - 'A')) : c;
      }
    }
    integer(0, 7, v);
    value.getBytes(0, v, b, length);
    if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf(0) >= 0) {
      // not allowed in a field value (RFC 9113, 8.2.1); Undertow's encoder also writes a blank for
      // CR and LF
      for (int i = length; i < length + v; i++) {
        if (b[i] == '\r' || b[i] == '\n' || b[i] == 0) {
          b[i] = ' ';
        }
      }
    }
    length += v;
  }

  /** The static index of {@code :status: value}, or 0. */
  private static int statusIndex(String value) {
    return switch (value) {
      case "200" -> 8;
      case "204" -> 9;
      case "206" -> 10;
      case "304" -> 11;
      case "400" -> 12;
      case "404" -> 13;
      case "500" -> 14;
      default -> 0;
    };
  }

  /** Makes room for {@code n} more bytes in {@link #block}. */
  private void room(int n) {
    if (length + n > block.length) {
      block = Arrays.copyOf(block, Math.max(block.length * 2, length + n));
    }
  }

  /** An integer with an {@code bits}-bit prefix after the bits of {@code first} (RFC 7541, 5.1). */
  private void integer(int first, int bits, int value) {
    int max = (1 << bits) - 1;
    if (value < max) {
      block[length++] = (byte) (first | value);
      return;
    }
    block[length++] = (byte) (first | max);
    int v = value - max;
    while (v >= 0x80) {
      block[length++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    block[length++] = (byte) v;
  }
}
