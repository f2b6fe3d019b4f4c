package com.foobar.core;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.BiFunction;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import org.wildfly.openssl.OpenSSLEngine;

/**
 * A server {@link SSLEngine} that forwards every call to the JDK's or OpenSSL's engine and tells
 * {@link TlsHandshakeMeters} how its first handshake ended: the {@code wrap}/{@code unwrap} result
 * that says {@link SSLEngineResult.HandshakeStatus#FINISHED}, or the {@link SSLException} one of
 * them threw before that. Once it ended, a {@code wrap}/{@code unwrap} costs one field check more
 * than the engine's own: this sits on every TLS record of the listener.
 *
 * <p>It also sends the alert of a handshake that OpenSSL's engine refused. wildfly-openssl frees
 * the connection's SSL, with the alert OpenSSL wrote for the peer, before that alert can be
 * wrapped, so a client offering only TLS 1.1 saw the connection end without a reason ("unexpected
 * eof"), where the JDK's engine and HAProxy send {@code protocol_version}. Undertow's TLS conduit
 * makes a last {@code wrap} after a failed {@code unwrap}; that {@code wrap} returns the alert
 * OpenSSL's reason calls for (RFC 8446, 6.2): {@code protocol_version} for a version below the
 * policy, {@code handshake_failure} for no shared suite, group or signature algorithm, {@code
 * inappropriate_fallback}. Other failures (a peer that is not speaking TLS) still get none.
 */
final class MeteredSslEngine extends SSLEngine {
  private static final byte ALERT = 21;
  private static final byte FATAL = 2;
  private static final byte HANDSHAKE_FAILURE = 40;
  private static final byte PROTOCOL_VERSION = 70;
  private static final byte INAPPROPRIATE_FALLBACK = 86;

  private final SSLEngine engine;
  private final TlsHandshakeMeters meters;

  /** Whether the engine loses its alerts: OpenSSL's. */
  private final boolean losesAlerts;

  // touched by the connection's IO thread only; delegated tasks never call wrap or unwrap
  private boolean ended;

  /** The record version of the peer's first record, which the alert's record repeats; 0 before. */
  private short recordVersion;

  /** The alert record the next {@code wrap} returns, after a refused handshake; null for none. */
  private byte[] alert;

  MeteredSslEngine(SSLEngine engine, TlsHandshakeMeters meters) {
    super(engine.getPeerHost(), engine.getPeerPort());
    this.engine = engine;
    this.meters = meters;
    this.losesAlerts = engine instanceof OpenSSLEngine;
  }

  /** The engine doing the work, for {@link OpenSslAlpn}. */
  SSLEngine delegate() {
    return engine;
  }

  @Override
  public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
      throws SSLException {
    if (ended) {
      return engine.wrap(srcs, offset, length, dst);
    }
    if (alert != null) {
      return sendAlert(dst);
    }
    try {
      return observe(engine.wrap(srcs, offset, length, dst));
    } catch (SSLException e) {
      throw failed(e);
    }
  }

  @Override
  public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length)
      throws SSLException {
    if (ended) {
      return engine.unwrap(src, dsts, offset, length);
    }
    if (losesAlerts && recordVersion == 0 && src.remaining() >= 3) {
      recordVersion = src.getShort(src.position() + 1);
    }
    try {
      return observe(engine.unwrap(src, dsts, offset, length));
    } catch (SSLException e) {
      throw failed(e);
    }
  }

  private SSLEngineResult observe(SSLEngineResult result) {
    if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
      ended = true;
      meters.finished(engine.getSession().getProtocol());
    }
    return result;
  }

  private SSLException failed(SSLException e) {
    meters.failed(e);
    byte description = losesAlerts ? description(e) : 0;
    if (description > 0) {
      ByteBuffer record = ByteBuffer.allocate(7);
      // TLS 1.0's record version when the first record's is not that of any TLS
      short version = (recordVersion & 0xFF00) == 0x0300 ? recordVersion : 0x0301;
      record.put(ALERT).putShort(version).putShort((short) 2).put(FATAL).put(description);
      alert = record.array();
    }
    // with an alert to send, wrap still looks
    ended = alert == null;
    return e;
  }

  /**
   * The alert for OpenSSL's reason in {@code e} ("error:0A000102:SSL routines::unsupported
   * protocol"), or 0.
   */
  private static byte description(SSLException e) {
    String reason = String.valueOf(e.getMessage());
    if (reason.contains("unsupported protocol") || reason.contains("version too low")) {
      return PROTOCOL_VERSION;
    }
    if (reason.contains("inappropriate fallback")) {
      return INAPPROPRIATE_FALLBACK;
    }
    if (reason.contains("no shared cipher")
        || reason.contains("no suitable signature algorithm")
        || reason.contains("no shared signature algorithms")
        || reason.contains("no suitable key share")
        || reason.contains("no shared groups")) {
      return HANDSHAKE_FAILURE;
    }
    return 0;
  }

  private SSLEngineResult sendAlert(ByteBuffer dst) {
    if (dst.remaining() < alert.length) {
      return new SSLEngineResult(
          SSLEngineResult.Status.BUFFER_OVERFLOW,
          SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING,
          0,
          0);
    }
    dst.put(alert);
    int produced = alert.length;
    alert = null;
    ended = true;
    return new SSLEngineResult(
        SSLEngineResult.Status.CLOSED,
        SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING,
        0,
        produced);
  }

  @Override
  public Runnable getDelegatedTask() {
    return engine.getDelegatedTask();
  }

  @Override
  public void closeInbound() throws SSLException {
    engine.closeInbound();
  }

  @Override
  public boolean isInboundDone() {
    return engine.isInboundDone();
  }

  @Override
  public void closeOutbound() {
    engine.closeOutbound();
  }

  @Override
  public boolean isOutboundDone() {
    return engine.isOutboundDone();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return engine.getSupportedCipherSuites();
  }

  @Override
  public String[] getEnabledCipherSuites() {
    return engine.getEnabledCipherSuites();
  }

  @Override
  public void setEnabledCipherSuites(String[] suites) {
    engine.setEnabledCipherSuites(suites);
  }

  @Override
  public String[] getSupportedProtocols() {
    return engine.getSupportedProtocols();
  }

  @Override
  public String[] getEnabledProtocols() {
    return engine.getEnabledProtocols();
  }

  @Override
  public void setEnabledProtocols(String[] protocols) {
    engine.setEnabledProtocols(protocols);
  }

  @Override
  public SSLSession getSession() {
    return engine.getSession();
  }

  @Override
  public SSLSession getHandshakeSession() {
    return engine.getHandshakeSession();
  }

  @Override
  public void beginHandshake() throws SSLException {
    engine.beginHandshake();
  }

  @Override
  public SSLEngineResult.HandshakeStatus getHandshakeStatus() {
    return engine.getHandshakeStatus();
  }

  @Override
  public void setUseClientMode(boolean mode) {
    engine.setUseClientMode(mode);
  }

  @Override
  public boolean getUseClientMode() {
    return engine.getUseClientMode();
  }

  @Override
  public void setNeedClientAuth(boolean need) {
    engine.setNeedClientAuth(need);
  }

  @Override
  public boolean getNeedClientAuth() {
    return engine.getNeedClientAuth();
  }

  @Override
  public void setWantClientAuth(boolean want) {
    engine.setWantClientAuth(want);
  }

  @Override
  public boolean getWantClientAuth() {
    return engine.getWantClientAuth();
  }

  @Override
  public void setEnableSessionCreation(boolean flag) {
    engine.setEnableSessionCreation(flag);
  }

  @Override
  public boolean getEnableSessionCreation() {
    return engine.getEnableSessionCreation();
  }

  @Override
  public SSLParameters getSSLParameters() {
    return engine.getSSLParameters();
  }

  @Override
  public void setSSLParameters(SSLParameters params) {
    engine.setSSLParameters(params);
  }

  @Override
  public String getApplicationProtocol() {
    return engine.getApplicationProtocol();
  }

  @Override
  public String getHandshakeApplicationProtocol() {
    return engine.getHandshakeApplicationProtocol();
  }

  @Override
  public void setHandshakeApplicationProtocolSelector(
      BiFunction<SSLEngine, List<String>, String> selector) {
    engine.setHandshakeApplicationProtocolSelector(selector);
  }

  @Override
  public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
    return engine.getHandshakeApplicationProtocolSelector();
  }

  @Override
  public String toString() {
    return engine.toString();
  }
}
