package com.foobar.lb;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.SSLSessionInfo;
import io.undertow.server.ServerConnection;
import java.io.IOException;
import java.security.cert.Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.xnio.SslClientAuthMode;

/**
 * The TLS session of a public lb connection, whose listener never asks clients for a certificate.
 *
 * <p>Undertow's proxy asks every request's session for the client's certificate chain (to pass it
 * on to AJP backends). Without a certificate, Undertow's own session info answers by creating and
 * throwing two exceptions, each with a stack trace: on HTTP/2, where Undertow makes a session info
 * per stream, filling in those stack traces alone took about 3 % of the lb's CPU (perf, h2load).
 * This one answers with one exception made once; everything else goes to Undertow's.
 */
final class NoClientCertificate implements SSLSessionInfo {
  private static final SSLPeerUnverifiedException NONE =
      new SSLPeerUnverifiedException("the lb does not ask clients for a certificate");

  private final SSLSessionInfo session;

  private NoClientCertificate(SSLSessionInfo session) {
    this.session = session;
  }

  /** Puts one in front of the session info of {@code exchange}'s connection, if it has one. */
  static void apply(HttpServerExchange exchange) {
    ServerConnection connection = exchange.getConnection();
    SSLSessionInfo info = connection.getSslSessionInfo();
    if (info != null && !(info instanceof NoClientCertificate)) {
      connection.setSslSessionInfo(new NoClientCertificate(info));
    }
  }

  @Override
  public byte[] getSessionId() {
    return session.getSessionId();
  }

  @Override
  public String getCipherSuite() {
    return session.getCipherSuite();
  }

  @Override
  public int getKeySize() {
    return session.getKeySize();
  }

  @Override
  public Certificate[] getPeerCertificates() throws SSLPeerUnverifiedException {
    throw NONE;
  }

  @Override
  @Deprecated
  @SuppressWarnings("removal")
  public javax.security.cert.X509Certificate[] getPeerCertificateChain()
      throws SSLPeerUnverifiedException {
    throw NONE;
  }

  @Override
  public void renegotiate(HttpServerExchange exchange, SslClientAuthMode mode) throws IOException {
    throw new IOException("the lb does not renegotiate to ask for a client certificate");
  }

  @Override
  public SSLSession getSSLSession() {
    return session.getSSLSession();
  }
}
