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
 */
final class OpenSslContext {
  /** wildfly-openssl's certificate slots ({@code SSL.SSL_AIDX_RSA}, {@code SSL.SSL_AIDX_ECC}). */
  private static final int SLOT_RSA = 0;

  private static final int SLOT_EC = 3;

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
      set.invoke(
          SSL.getInstance(),
          handle.getLong(spi),
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
