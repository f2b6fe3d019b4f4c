package com.foobar.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The TLS handshakes of one server listener: {@code foobar.tls.handshakes{listener, protocol,
 * result=ok}} counts the handshakes that finished (resumed sessions included), by protocol ({@code
 * TLSv1.3}, {@code TLSv1.2}); {@code foobar.tls.handshake.failures{listener, reason}} those the
 * listener's engine refused or the client aborted with an alert. Reasons: {@code protocol} (no
 * protocol in common, e.g. a TLS 1.1 client), {@code cipher} (no cipher suite in common), {@code
 * client_certificate} (missing or not from the client CA), {@code not_tls} (plain text on the TLS
 * port), {@code peer_<alert>} (the client sent a fatal alert, e.g. {@code
 * peer_certificate_unknown}: it did not trust the certificate), {@code other}. A connection closed
 * before the handshake ended counts as neither.
 *
 * <p>JSSE has no handshake callback, so {@link #wrap} gives the listener an {@link SSLContext}
 * whose engines are {@link MeteredSslEngine}s around the JDK's.
 */
final class TlsHandshakeMeters {
  private static final Pattern ALERT = Pattern.compile("Received fatal alert: ([a-z_]{1,40})");

  private final MeterRegistry registry;
  private final String listener;
  private final Counter tls13;
  private final Counter tls12;
  private final Map<String, Counter> failures = new ConcurrentHashMap<>();

  TlsHandshakeMeters(MeterRegistry registry, String listener) {
    this.registry = registry;
    this.listener = listener;
    this.tls13 = handshakes("TLSv1.3");
    this.tls12 = handshakes("TLSv1.2");
  }

  private Counter handshakes(String protocol) {
    return Counter.builder("foobar.tls.handshakes")
        .description("TLS handshakes that finished, resumed sessions included")
        .tag("listener", listener)
        .tag("protocol", protocol)
        .tag("result", "ok")
        .register(registry);
  }

  /** A handshake finished with {@code protocol} (the session's, e.g. {@code TLSv1.3}). */
  void finished(String protocol) {
    if ("TLSv1.3".equals(protocol)) {
      tls13.increment();
    } else if ("TLSv1.2".equals(protocol)) {
      tls12.increment();
    } else {
      handshakes(protocol).increment();
    }
  }

  /** A handshake ended with {@code e}. */
  void failed(SSLException e) {
    failures
        .computeIfAbsent(
            reason(e),
            r ->
                Counter.builder("foobar.tls.handshake.failures")
                    .description("TLS handshakes that failed, by reason")
                    .tag("listener", listener)
                    .tag("reason", r)
                    .register(registry))
        .increment();
  }

  /** The {@code reason} tag of a failed handshake, from the JDK's messages (and their causes'). */
  static String reason(Throwable e) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = e; t != null && text.length() < 4096; t = t.getCause()) {
      text.append(t.getMessage()).append('\n');
    }
    String s = text.toString();
    Matcher alert = ALERT.matcher(s);
    if (alert.find()) {
      return "peer_" + alert.group(1);
    }
    String lower = s.toLowerCase(Locale.ROOT);
    if (lower.contains("certificate") || lower.contains("pkix")) {
      return "client_certificate";
    }
    if (lower.contains("protocol")) {
      return "protocol";
    }
    if (lower.contains("cipher")) {
      return "cipher";
    }
    if (lower.contains("unrecognized ssl message")) {
      return "not_tls";
    }
    return "other";
  }

  /**
   * {@code context} as the listener should use it: the same key material, sessions and parameters;
   * its server engines are metered.
   */
  SSLContext wrap(SSLContext context) {
    return new Metered(new Spi(context, this), context);
  }

  private static final class Metered extends SSLContext {
    Metered(SSLContextSpi spi, SSLContext context) {
      super(spi, context.getProvider(), context.getProtocol());
    }
  }

  private static final class Spi extends SSLContextSpi {
    private final SSLContext context;
    private final TlsHandshakeMeters meters;

    Spi(SSLContext context, TlsHandshakeMeters meters) {
      this.context = context;
      this.meters = meters;
    }

    @Override
    protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom random)
        throws KeyManagementException {
      context.init(km, tm, random);
    }

    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
      return context.getSocketFactory();
    }

    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
      return context.getServerSocketFactory();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
      return new MeteredSslEngine(context.createSSLEngine(), meters);
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
      return new MeteredSslEngine(context.createSSLEngine(host, port), meters);
    }

    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
      return context.getServerSessionContext();
    }

    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
      return context.getClientSessionContext();
    }

    @Override
    protected SSLParameters engineGetDefaultSSLParameters() {
      return context.getDefaultSSLParameters();
    }

    @Override
    protected SSLParameters engineGetSupportedSSLParameters() {
      return context.getSupportedSSLParameters();
    }
  }
}
