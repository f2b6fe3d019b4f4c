package com.foobar.core;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS between the tiers with the internal CA ({@link InternalCa}): the client side of the lb →
 * backend connections. (The backend's server side is a {@link ServerTls} with {@link
 * ServerTls.Builder#clientCa}.)
 */
public final class PeerTls {
  private PeerTls() {}

  /**
   * A client context that trusts only the certificates of {@code ca} and presents {@code cert} /
   * {@code key}. Host names are not checked by the context: the connection's {@code SSLParameters}
   * must set endpoint identification ({@code HTTPS}) for that, as the lb's request and health check
   * clients do.
   *
   * @param configKey e.g. {@code lb.upstream-tls}; messages name {@code lb.upstream-tls.ca} etc.
   * @throws TlsMaterialException naming the key and file of an unusable file
   */
  public static SSLContext client(String configKey, Path ca, Path cert, Path key) {
    KeyStore trust = ServerTls.trustStore(configKey + ".ca", ca);
    CertifiedKey own = CertifiedKey.load(configKey, cert, key);
    try {
      char[] password = new char[0];
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("node", own.key(), password, own.chain().toArray(X509Certificate[]::new));
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, password);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("the JDK's TLS provider cannot be set up", e);
    }
  }
}
