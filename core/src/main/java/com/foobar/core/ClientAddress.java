package com.foobar.core;

import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.OpenListener;
import io.undertow.server.protocol.proxy.ProxyProtocolOpenListener;
import io.undertow.util.AttachmentKey;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.xnio.ChannelListener;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;

/**
 * The client IP of a request: the socket peer, unless the peer is one of the listener's trusted
 * proxies; then the right-most address of {@code X-Forwarded-For} that is not itself a trusted
 * proxy. The header is walked from the right, skipping trusted proxies; an entry that is not an IP
 * literal (or an IP literal with a port) stops the walk, and the last address that was good — the
 * trusted hop that forwarded the malformed header, at worst the peer — is the client.
 *
 * <p>{@link #handler} resolves the address once per request and attaches it to the exchange, so
 * rate limiting, access logging and {@code X-Forwarded-For} appending all see the same answer
 * through {@link #of}.
 *
 * <p>PROXY protocol (v1 and v2, as Undertow parses them) is believed only from trusted proxies:
 * {@link #proxyProtocol} sits between the accepting socket and Undertow's open listener, sees the
 * real socket peer and only lets Undertow read a PROXY header from a trusted one. A connection
 * carrying a PROXY header then has the header's source as its socket peer, which is what this class
 * reads.
 */
public final class ClientAddress {
  private static final AttachmentKey<Resolved> RESOLVED = AttachmentKey.create(Resolved.class);
  private static final Pattern V4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Pattern V6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  private record Resolved(InetAddress client, boolean peerTrusted) {}

  private ClientAddress() {}

  /**
   * A handler that resolves the client address of every request and attaches it, then calls {@code
   * next}. It belongs near the start of a listener's chain, before anything that reads {@link #of}.
   *
   * @param trustedProxies peers whose {@code X-Forwarded-For} is believed; empty believes nobody
   */
  public static HttpHandler handler(List<Cidr> trustedProxies, HttpHandler next) {
    Cidr[] trusted = trustedProxies.toArray(Cidr[]::new);
    return exchange -> {
      InetAddress peer = peer(exchange);
      boolean peerTrusted = trusted(peer, trusted);
      InetAddress client =
          peerTrusted
              ? resolve(peer, exchange.getRequestHeaders().get(Headers.X_FORWARDED_FOR), trusted)
              : peer;
      exchange.putAttachment(RESOLVED, new Resolved(client, peerTrusted));
      next.handleRequest(exchange);
    };
  }

  /**
   * The client address of {@code exchange}: as resolved by {@link #handler}, or the socket peer
   * when no such handler ran.
   */
  public static InetAddress of(HttpServerExchange exchange) {
    Resolved r = exchange.getAttachment(RESOLVED);
    return r != null ? r.client() : peer(exchange);
  }

  /**
   * Whether the socket peer of {@code exchange} is a trusted proxy, so that headers it sets about
   * the client ({@code X-Forwarded-For}, {@code X-Request-Id}) may be kept; false when {@link
   * #handler} did not run.
   */
  public static boolean peerTrusted(HttpServerExchange exchange) {
    Resolved r = exchange.getAttachment(RESOLVED);
    return r != null && r.peerTrusted();
  }

  /**
   * An open listener for a listener with {@code proxy-protocol: true}: a connection from a trusted
   * proxy must start with a PROXY protocol header (Undertow's {@link ProxyProtocolOpenListener}
   * reads it, then hands over with the header's addresses as the connection's); a connection from
   * any other peer is handed to {@code next} as it is, so its PROXY header, if it sends one, is not
   * believed but parsed as HTTP (400). The Undertow listener must not itself have {@code
   * ENABLE_PROXY_PROTOCOL} set.
   *
   * @param trustedProxies peers allowed to send a PROXY header
   * @param next the HTTP, HTTP/2 or ALPN open listener
   * @param ssl TLS to start after the PROXY header (and on untrusted connections); empty for a
   *     plain listener
   * @param pool Undertow's buffer pool, for reading the header
   * @param sslOptions the TLS options of the listener ({@link OptionMap#EMPTY} for none)
   */
  public static ChannelListener<StreamConnection> proxyProtocol(
      List<Cidr> trustedProxies,
      OpenListener next,
      Optional<UndertowXnioSsl> ssl,
      ByteBufferPool pool,
      OptionMap sslOptions) {
    Cidr[] trusted = trustedProxies.toArray(Cidr[]::new);
    ProxyProtocolOpenListener proxied =
        new ProxyProtocolOpenListener(next, ssl.orElse(null), pool, sslOptions);
    ChannelListener<StreamConnection> direct = Acceptor.startTls(next, ssl, sslOptions);
    return connection -> {
      InetSocketAddress peer = connection.getPeerAddress(InetSocketAddress.class);
      if (peer != null && peer.getAddress() != null && trusted(peer.getAddress(), trusted)) {
        proxied.handleEvent(connection);
      } else {
        direct.handleEvent(connection);
      }
    };
  }

  static InetAddress resolve(InetAddress peer, HeaderValues forwardedFor, Cidr[] trusted) {
    InetAddress good = peer;
    if (forwardedFor == null) {
      return good;
    }
    for (int h = forwardedFor.size() - 1; h >= 0; h--) {
      String[] entries = forwardedFor.get(h).split(",", -1);
      for (int i = entries.length - 1; i >= 0; i--) {
        Optional<InetAddress> hop = literal(entries[i].trim());
        if (hop.isEmpty()) {
          return good;
        }
        if (!trusted(hop.get(), trusted)) {
          return hop.get();
        }
        good = hop.get();
      }
    }
    return good;
  }

  /** An IP literal; never a DNS look-up. */
  static Optional<InetAddress> literal(String s) {
    boolean v4 = V4.matcher(s).matches();
    if (!v4 && !V6.matcher(s).matches()) {
      return Optional.empty();
    }
    if (v4) {
      for (String octet : s.split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          return Optional.empty();
        }
      }
    }
    try {
      // a string of digits, dots and colons only is parsed as a literal or refused, never looked up
      return Optional.of(InetAddress.getByName(s));
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }

  private static boolean trusted(InetAddress address, Cidr[] trusted) {
    for (Cidr c : trusted) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }

  private static InetAddress peer(HttpServerExchange exchange) {
    InetSocketAddress source = exchange.getSourceAddress();
    if (source == null || source.getAddress() == null) {
      throw new IllegalStateException(
          "exchange has no socket peer address: " + exchange.getConnection());
    }
    return source.getAddress();
  }
}
