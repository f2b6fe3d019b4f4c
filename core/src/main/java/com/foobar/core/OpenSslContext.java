package com.foobar.core;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
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
import org.wildfly.openssl.OpenSSLContextSPI;
import org.wildfly.openssl.OpenSSLProvider;
import org.wildfly.openssl.SSL;

/**
 * A server {@link SSLContext} whose engines are OpenSSL's ({@link TlsEngine#OPENSSL}), serving one
 * certificate; {@link #use} swaps in another for new handshakes (open connections keep theirs).
 *
 * <p>wildfly-openssl loads key material only from a key manager's {@code RSA} and {@code DSA}
 * aliases, and hands OpenSSL the PKCS#8 key under a {@code RSA PRIVATE KEY} / {@code DSA PRIVATE
 * KEY} PEM label; OpenSSL 3's decoder takes the label as the key type, so an EC key can never be
 * loaded that way (the context then has no certificate and OpenSSL closes every connection after
 * the ClientHello). This class hands the certificate and key to the same native call itself, under
 * the neutral {@code PRIVATE KEY} label, which OpenSSL reads for RSA and EC alike. That call and
 * the native context handle are not public, hence the reflection.
 *
 * <p>The TLS policy ({@link ServerTls#PROTOCOLS}, {@link ServerTls#CIPHER_SUITES}, server order) is
 * set once on OpenSSL's context, which every connection inherits, through the same kind of
 * non-public calls. Set per engine, as a listener does for the JDK's engines, wildfly-openssl
 * rebuilds and translates its whole suite list for every connection, about a tenth of the CPU of a
 * new TLS connection.
 */
final class OpenSslContext {
  /** wildfly-openssl's certificate slots ({@code SSL.SSL_AIDX_RSA}, {@code SSL.SSL_AIDX_ECC}). */
  private static final int SLOT_RSA = 0;

  private static final int SLOT_EC = 3;

  /** {@link ServerTls#CIPHER_SUITES} for TLS 1.2 as OpenSSL names them, in the same order. */
  static final String TLS12_SUITES =
      String.join(
          ":",
          "ECDHE-ECDSA-AES128-GCM-SHA256",
          "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-CHACHA20-POLY1305",
          "ECDHE-RSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-RSA-CHACHA20-POLY1305");

  /** {@link ServerTls#CIPHER_SUITES} for TLS 1.3 (OpenSSL uses the RFC names). */
  static final String TLS13_SUITES =
      String.join(
          ":", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  /**
   * OpenSSL's {@code SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1} (the same bits in
   * OpenSSL 1.1 and 3): {@link ServerTls#PROTOCOLS} is TLS 1.2 and 1.3.
   */
  private static final long NO_OLD_PROTOCOLS = (1L << 25) | (1L << 26) | (1L << 28);

  /** OpenSSL's {@code SSL_OP_CIPHER_SERVER_PREFERENCE}: the order of the suites above wins. */
  private static final long SERVER_PREFERENCE = 1L << 22;

  private final String configKey;
  private final AtomicReference<SSLContext> current;
  private final SSLContext context;

  private OpenSslContext(String configKey, SSLContext first) {
    this.configKey = configKey;
    this.current = new AtomicReference<>(first);
    this.context = new Delegating(new Spi(current), first);
  }

  /**
   * Loads OpenSSL and serves {@code key}.
   *
   * @param configKey the key that chose the engine, e.g. {@code lb.tls-engine}, for messages
   * @throws ConfigException naming {@code configKey} when the native library cannot be loaded
   * @throws TlsMaterialException when OpenSSL refuses the certificate or key
   */
  static OpenSslContext create(String configKey, CertifiedKey key) {
    return new OpenSslContext(configKey, build(configKey, key));
  }

  /** The context to give the listener: its engines come from the key last {@link #use}d. */
  SSLContext context() {
    return context;
  }

  /**
   * New handshakes present {@code key}.
   *
   * @throws TlsMaterialException when OpenSSL refuses it (the previous key keeps serving)
   */
  void use(CertifiedKey key) {
    current.set(build(configKey, key));
  }

  private static SSLContext build(String configKey, CertifiedKey key) {
    OpenSSLContextSPI spi;
    try {
      spi = new OpenSSLContextSPI.OpenSSLTLSContextSpi();
    } catch (SSLException | RuntimeException | LinkageError e) {
      throw new ConfigException(
          List.of(
              configKey
                  + ": openssl cannot be used, the OpenSSL library (libssl 1.1 or 3) did not load: "
                  + rootMessage(e)
                  + " (install it, or use jdk)"));
    }
    SSLContext context = new Native(spi);
    try {
      context.init(null, null, null);
      Field handle = OpenSSLContextSPI.class.getDeclaredField("ctx");
      handle.setAccessible(true);
      Method set =
          SSL.class.getDeclaredMethod(
              "setCertificate", long.class, byte[].class, byte[][].class, byte[].class, int.class);
      set.setAccessible(true);
      List<X509Certificate> chain = key.chain();
      byte[][] intermediates = new byte[chain.size() - 1][];
      for (int i = 1; i < chain.size(); i++) {
        intermediates[i - 1] = chain.get(i).getEncoded();
      }
      String pem =
          "-----BEGIN PRIVATE KEY-----\n"
              + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.key().getEncoded())
              + "\n-----END PRIVATE KEY-----\n";
      int slot = key.key().getAlgorithm().equals("RSA") ? SLOT_RSA : SLOT_EC;
      long ctx = handle.getLong(spi);
      policy(ctx);
      set.invoke(
          SSL.getInstance(),
          ctx,
          key.leaf().getEncoded(),
          intermediates,
          pem.getBytes(StandardCharsets.US_ASCII),
          slot);
    } catch (InvocationTargetException e) {
      throw new TlsMaterialException(
          configKey + ": OpenSSL refused the certificate of " + key.names() + ": " + rootMessage(e),
          e);
    } catch (ReflectiveOperationException | CertificateEncodingException e) {
      throw new IllegalStateException("this wildfly-openssl version cannot be given a key", e);
    } catch (KeyManagementException e) {
      throw new IllegalStateException("OpenSSL's context cannot be set up", e);
    }
    return context;
  }

  /** Sets {@link ServerTls}'s protocols, suites and order on the native context {@code ctx}. */
  private static void policy(long ctx) throws ReflectiveOperationException {
    Method options = SSL.class.getDeclaredMethod("setSSLContextOptions", long.class, long.class);
    Method tls12 = SSL.class.getDeclaredMethod("setCipherSuite", long.class, String.class);
    Method tls13 = SSL.class.getDeclaredMethod("setCipherSuiteTLS13", long.class, String.class);
    options.setAccessible(true);
    tls12.setAccessible(true);
    tls13.setAccessible(true);
    try {
      options.invoke(SSL.getInstance(), ctx, NO_OLD_PROTOCOLS | SERVER_PREFERENCE);
      if ((boolean) tls12.invoke(SSL.getInstance(), ctx, TLS12_SUITES)
          && (boolean) tls13.invoke(SSL.getInstance(), ctx, TLS13_SUITES)) {
        return;
      }
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("OpenSSL refused the TLS policy: " + rootMessage(e), e);
    }
    throw new IllegalStateException("OpenSSL refused the suites " + TLS12_SUITES);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    // "Could not load libssl\n/usr/lib/libssl.so: cannot open ...": one line for the log
    return String.valueOf(t.getMessage()).strip().replaceAll("\\s*\n\\s*", ": ");
  }

  private static final class Native extends SSLContext {
    Native(OpenSSLContextSPI spi) {
      super(spi, OpenSSLProvider.INSTANCE, "TLS");
    }
  }

  private static final class Delegating extends SSLContext {
    Delegating(SSLContextSpi spi, SSLContext first) {
      super(spi, first.getProvider(), first.getProtocol());
    }
  }

  /** Every call goes to the context of the current key. */
  private static final class Spi extends SSLContextSpi {
    private final AtomicReference<SSLContext> current;

    Spi(AtomicReference<SSLContext> current) {
      this.current = current;
    }

    @Override
    protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom random) {
      throw new UnsupportedOperationException("initialised already");
    }

    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
      return current.get().getSocketFactory();
    }

    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
      return current.get().getServerSocketFactory();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
      return current.get().createSSLEngine();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
      return current.get().createSSLEngine(host, port);
    }

    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
      return current.get().getServerSessionContext();
    }

    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
      return current.get().getClientSessionContext();
    }

    @Override
    protected SSLParameters engineGetDefaultSSLParameters() {
      return current.get().getDefaultSSLParameters();
    }

    @Override
    protected SSLParameters engineGetSupportedSSLParameters() {
      return current.get().getSupportedSSLParameters();
    }
  }
}
